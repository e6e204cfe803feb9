import { api } from '../api';
import { h } from '../dom';
import type { Page } from '../page';
import type { Delivery, PayDetail, PayRow } from '../types';
import { card, dash, pageHeader, pairs, table, when } from '../ui';
import { deliveriesTable } from './deliveries';
import { olderLink, searchForm, showValue } from './search';

const FIELDS = [
  { name: 'merchant', label: 'Merchant' },
  { name: 'type', label: 'Type', placeholder: 'TRANSACTION.SUCCESS…' },
  { name: 'from', label: 'From', type: 'time' as const },
  { name: 'to', label: 'To', type: 'time' as const },
];

const typeOf = (n: PayRow) => n.eventType ?? n.type ?? '';
const link = (n: PayRow, child: ReturnType<typeof when>) =>
  h('a', { href: `#/pay/${encodeURIComponent(String(n.id))}` }, child);

/** WeChat Pay's summary (`支付成功`) and the notification's own id. */
function summary(n: PayRow) {
  const id =
    typeof n.notificationId === 'string' ? h('code', { class: 'dim' }, n.notificationId) : null;
  return [typeof n.summary === 'string' && n.summary !== '' ? n.summary : dash(), ' ', id];
}

export const payPage: Page = async (ctx) => {
  if (ctx.id !== undefined) return payDetail(ctx.id, ctx.reload);
  const answer = await api<{
    notifications?: PayRow[];
    payNotifications?: PayRow[];
    next: string | number | null;
  }>('GET', `pay-notifications?${ctx.params.toString()}`);
  const rows = answer.notifications ?? answer.payNotifications ?? [];
  return [
    pageHeader('Pay notifications'),
    searchForm('pay', FIELDS, ctx.params, ctx.go),
    table<PayRow>(
      [
        { label: 'Received', cell: (n) => link(n, when(n.receivedAt)) },
        { label: 'Merchant', cell: (n) => h('strong', {}, n.merchant) },
        { label: 'Type', cell: (n) => h('code', {}, typeOf(n)) },
        { label: 'Summary', cell: summary },
        { label: '', cell: (n) => link(n, 'View') },
      ],
      rows,
      'No pay notifications match.',
    ),
    olderLink('pay', ctx.params, answer.next),
  ];
};

async function payDetail(id: string, reload: () => void) {
  const answer = await api<{
    notification?: PayDetail;
    payNotification?: PayDetail;
    deliveries: Delivery[];
  }>('GET', `pay-notifications/${encodeURIComponent(id)}`);
  const n = answer.notification ?? answer.payNotification;
  if (n === undefined) throw new Error('the hub sent no notification');
  const fields = n.fields ?? n.resource ?? {};
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/pay' }, '← Pay notifications')),
    pageHeader(`Pay notification ${n.id}`),
    card(
      null,
      pairs([
        ['Merchant', n.merchant],
        ['Type', h('code', {}, typeOf(n))],
        ['Received', when(n.receivedAt)],
      ]),
    ),
    card('Deliveries', deliveriesTable(answer.deliveries ?? [], reload)),
    card(
      'Decrypted resource',
      pairs(
        Object.entries(fields).map(([k, v]) => [k, h('span', { class: 'mono pre' }, showValue(v))]),
      ),
    ),
    card('Raw body', h('pre', { class: 'raw', tabindex: 0 }, n.raw)),
  ];
}
