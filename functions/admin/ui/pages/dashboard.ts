import { api } from '../api';
import { activityChart, SERIES } from '../chart';
import { h } from '../dom';
import { count, duration, relative } from '../format';
import type { Page } from '../page';
import type { Dashboard, FreshnessRow } from '../types';
import { badge, card, dash, pageHeader, type Tone, table, when } from '../ui';

/** How fresh a credential is: a tone and words for its remaining lifetime. */
export function freshness(row: FreshnessRow): { tone: Tone; text: string } {
  const left = row.expiresInSeconds;
  if (left === null) return { tone: 'muted', text: 'never fetched' };
  if (left <= 0) {
    return {
      tone: 'bad',
      text: row.expiresAt === null ? 'expired' : `expired ${relative(row.expiresAt)}`,
    };
  }
  if (left < 600) return { tone: 'warn', text: `in ${duration(left)}` };
  return { tone: 'ok', text: `in ${duration(left)}` };
}

function stat(label: string, value: number, tone: Tone | 'pay' | 'refresh', href?: string) {
  const body = [
    h('span', { class: 'stat-value' }, count(value)),
    h('span', { class: 'stat-label' }, label),
  ];
  return href === undefined
    ? h('div', { class: `stat stat-${tone}` }, body)
    : h('a', { class: `stat stat-${tone}`, href }, body);
}

const sum = (xs: number[]) => xs.reduce((p, v) => p + v, 0);

export const dashboardPage: Page = async () => {
  const d = await api<Dashboard>('GET', 'dashboard');
  const rows = [...d.credentials].sort(
    (a, b) => (a.expiresInSeconds ?? -Infinity) - (b.expiresInSeconds ?? -Infinity),
  );
  const stale = rows.filter((r) => freshness(r).tone !== 'ok').length;
  return [
    pageHeader('Dashboard'),
    h(
      'div',
      { class: 'stats' },
      SERIES.map((sr, k) =>
        stat(
          `${sr.label}, 24 h`,
          sum(d.activity[sr.key]),
          k === 0 ? 'info' : k === 1 ? 'pay' : 'refresh',
        ),
      ),
      stat(
        'Deliveries pending',
        d.outbox.pending,
        d.outbox.pending > 0 ? 'warn' : 'muted',
        '#/outbox?status=pending',
      ),
      stat(
        'Deliveries dead',
        d.outbox.dead,
        d.outbox.dead > 0 ? 'bad' : 'muted',
        '#/outbox?status=dead',
      ),
    ),
    card('Last 24 hours', activityChart(d.activity)),
    card(
      `Credentials${stale > 0 ? ` · ${stale} need attention` : ''}`,
      table<FreshnessRow>(
        [
          { label: 'Owner', cell: (r) => h('strong', {}, r.owner) },
          { label: 'Kind', cell: (r) => h('code', {}, r.kind) },
          {
            label: 'Expires',
            cell: (r) => {
              const f = freshness(r);
              return h(
                'span',
                { class: 'fresh' },
                h('meter', {
                  min: 0,
                  max: 7200,
                  low: 600,
                  high: 1800,
                  optimum: 7200,
                  value: Math.max(0, Math.min(7200, r.expiresInSeconds ?? 0)),
                  'aria-hidden': 'true',
                }),
                badge(f.text, f.tone),
              );
            },
          },
          { label: 'Last refresh', cell: (r) => when(r.refreshedAt) },
          {
            label: 'Last error',
            cell: (r) =>
              r.lastError === null
                ? dash()
                : h(
                    'span',
                    { class: 'error-text' },
                    r.lastError.message,
                    ' · ',
                    when(r.lastError.at),
                  ),
          },
          {
            label: 'Failures',
            cell: (r) => (r.failures > 0 ? badge(String(r.failures), 'bad') : '0'),
            className: 'num',
          },
          {
            label: 'Lease holder',
            cell: (r) =>
              r.leaseHolder === null
                ? dash()
                : h(
                    'span',
                    {},
                    h('code', {}, r.leaseHolder),
                    r.leaseUntil === null
                      ? null
                      : [h('br'), h('small', { class: 'dim' }, 'lease ends ', when(r.leaseUntil))],
                  ),
          },
        ],
        rows,
        'No credentials yet: they appear after the first token is fetched.',
      ),
    ),
  ];
};
