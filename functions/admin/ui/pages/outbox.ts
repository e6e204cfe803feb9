import { api } from '../api';
import { h } from '../dom';
import { hashOf, type Page } from '../page';
import type { Delivery } from '../types';
import { filterForm, formValue, pageHeader, table, textFilter } from '../ui';
import { deliveryColumns } from './deliveries';

const STATUSES = [
  ['dead', 'Dead', 'No dead deliveries.'],
  ['pending', 'Pending', 'Nothing pending.'],
  ['discarded', 'Discarded', 'Nothing discarded.'],
] as const;

/** The push or pay notification a delivery forwards, linked to its page. */
function source(d: Delivery) {
  const id = encodeURIComponent(String(d.sourceId ?? ''));
  const owner = h('strong', {}, d.owner ?? '');
  if (d.source === 'message') {
    return [owner, h('br'), h('a', { href: `#/messages/${id}` }, `push ${d.sourceId}`)];
  }
  if (d.source === 'pay') {
    return [owner, h('br'), h('a', { href: `#/pay/${id}` }, `notification ${d.sourceId}`)];
  }
  return owner;
}

export const outboxPage: Page = async (ctx) => {
  const status = STATUSES.find(([s]) => s === ctx.params.get('status')) ?? STATUSES[0];
  const owner = ctx.params.get('owner') ?? '';
  const query = new URLSearchParams({ status: status[0], ...(owner === '' ? {} : { owner }) });
  const { deliveries } = await api<{ deliveries: Delivery[] }>('GET', `outbox?${query}`);
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Delivery status' },
    STATUSES.map(([s, label]) =>
      h(
        'a',
        { href: hashOf('outbox', { status: s, owner }), 'aria-current': s === status[0] && 'page' },
        label,
      ),
    ),
  );
  const form = filterForm(
    [textFilter('Owner', 'owner', owner, 'app or merchant')],
    'Filter',
    (form) => ctx.go(hashOf('outbox', { status: status[0], owner: formValue(form, 'owner') })),
  );
  return [
    pageHeader('Outbox'),
    h(
      'p',
      { class: 'lede' },
      'Forwards of pushes and pay notifications not delivered. Requeue sends one again now with its attempts reset; discard drops it for good.',
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
      status[2],
    ),
  ];
};
