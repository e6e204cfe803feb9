import { api } from '../api';
import { h } from '../dom';
import type { Page } from '../page';
import type { Delivery, MessageDetail, MessageRow } from '../types';
import { badge, card, dash, pageHeader, pairs, table, when } from '../ui';
import { deliveriesTable } from './deliveries';
import { olderLink, searchForm, showValue } from './search';

const FIELDS = [
  { name: 'app', label: 'App' },
  { name: 'type', label: 'Type', placeholder: 'text, event…' },
  { name: 'event', label: 'Event', placeholder: 'subscribe…' },
  { name: 'openid', label: 'OpenID' },
  { name: 'from', label: 'From', type: 'time' as const },
  { name: 'to', label: 'To', type: 'time' as const },
];

const typeCell = (m: MessageRow) =>
  h('span', {}, h('code', {}, m.msgType ?? '?'), m.event ? [' · ', h('code', {}, m.event)] : null);

export const messagesPage: Page = async (ctx) => {
  if (ctx.id !== undefined) return messageDetail(ctx.id, ctx.reload);
  const { messages, next } = await api<{ messages: MessageRow[]; next: string | number | null }>(
    'GET',
    `messages?${ctx.params.toString()}`,
  );
  return [
    pageHeader('Messages'),
    searchForm('messages', FIELDS, ctx.params, ctx.go),
    table<MessageRow>(
      [
        {
          label: 'Received',
          cell: (m) =>
            h('a', { href: `#/messages/${encodeURIComponent(String(m.id))}` }, when(m.receivedAt)),
        },
        {
          label: 'App',
          cell: (m) => [
            h('strong', {}, m.app),
            m.authorizerAppId ? [' · ', h('code', {}, m.authorizerAppId)] : null,
          ],
        },
        { label: 'Type', cell: typeCell },
        { label: 'From', cell: (m) => (m.fromUser ? h('code', {}, m.fromUser) : dash()) },
        {
          label: 'Mode',
          cell: (m) => (m.encrypted ? badge('encrypted', 'info') : badge('plain', 'muted')),
        },
        {
          label: '',
          cell: (m) =>
            h(
              'a',
              {
                href: `#/messages/${encodeURIComponent(String(m.id))}`,
                'aria-label': `Message ${m.id}`,
              },
              'View',
            ),
        },
      ],
      messages,
      'No messages match.',
    ),
    olderLink('messages', ctx.params, next),
  ];
};

async function messageDetail(id: string, reload: () => void) {
  const { message: m, deliveries } = await api<{ message: MessageDetail; deliveries: Delivery[] }>(
    'GET',
    `messages/${encodeURIComponent(id)}`,
  );
  return [
    h('p', { class: 'crumbs' }, h('a', { href: '#/messages' }, '← Messages')),
    pageHeader(`Message ${m.id}`),
    card(
      null,
      pairs([
        ['App', m.app],
        ['Authorizer', m.authorizerAppId ?? dash()],
        ['Type', typeCell(m)],
        ['From', m.fromUser ? h('code', {}, m.fromUser) : dash()],
        ['Received', when(m.receivedAt)],
        ['Arrived', m.encrypted ? 'encrypted (shown decrypted)' : 'plain'],
      ]),
    ),
    card('Deliveries', deliveriesTable(deliveries, reload)),
    card(
      'Fields',
      pairs(
        Object.entries(m.fields ?? {}).map(([k, v]) => [
          k,
          h('span', { class: 'mono pre' }, showValue(v)),
        ]),
      ),
    ),
    card('Raw body', h('pre', { class: 'raw', tabindex: 0 }, m.raw)),
    m.reply ? card('Reply', h('pre', { class: 'raw', tabindex: 0 }, m.reply)) : null,
  ];
}
