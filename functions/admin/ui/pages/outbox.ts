import { api } from '../api';
import { h } from '../dom';
import { hashOf, type Page } from '../page';
import type { Delivery } from '../types';
import { formValue, pageHeader, table } from '../ui';
import { deliveryColumns } from './deliveries';

const source = (d: Delivery) => {
  if (d.messageId !== undefined)
    return h(
      'a',
      { href: `#/messages/${encodeURIComponent(String(d.messageId))}` },
      `message ${d.messageId}`,
    );
  if (d.notificationId !== undefined)
    return h(
      'a',
      { href: `#/pay/${encodeURIComponent(String(d.notificationId))}` },
      `notification ${d.notificationId}`,
    );
  return d.owner ?? '';
};

export const outboxPage: Page = async (ctx) => {
  const status = ctx.params.get('status') === 'pending' ? 'pending' : 'dead';
  const owner = ctx.params.get('owner') ?? '';
  const { deliveries } = await api<{ deliveries: Delivery[] }>(
    'GET',
    `outbox?${new URLSearchParams({ status, ...(owner === '' ? {} : { owner }) }).toString()}`,
  );
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Delivery status' },
    (['dead', 'pending'] as const).map((s) =>
      h(
        'a',
        {
          href: hashOf('outbox', { status: s, owner }),
          'aria-current': s === status ? 'page' : false,
        },
        s === 'dead' ? 'Dead' : 'Pending',
      ),
    ),
  );
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    h(
      'label',
      {},
      'Owner ',
      h('input', {
        name: 'owner',
        value: owner,
        autocomplete: 'off',
        placeholder: 'app or merchant',
      }),
    ),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go(hashOf('outbox', { status, owner: formValue(form, 'owner') }));
  });
  return [
    pageHeader('Outbox'),
    h(
      'p',
      { class: 'lede' },
      'Forwards of pushes and pay notifications not delivered yet. Requeue sends one again now with its attempts reset; discard drops it for good.',
    ),
    tabs,
    form,
    table(
      [
        { label: 'Id', cell: (d: Delivery) => String(d.id), className: 'num' },
        { label: 'From', cell: source },
        ...deliveryColumns(ctx.reload),
      ],
      deliveries,
      status === 'dead' ? 'No dead deliveries.' : 'Nothing pending.',
    ),
  ];
};
