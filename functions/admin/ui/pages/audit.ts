import { api } from '../api';
import { h } from '../dom';
import { hashOf, type Page } from '../page';
import type { AuditRow } from '../types';
import { dash, filterForm, formValue, pageHeader, select, table, when } from '../ui';

const actorName = (a: AuditRow['actor']) => (a === null ? '—' : typeof a === 'string' ? a : a.name);

export const auditPage: Page = async (ctx) => {
  const limit = ctx.params.get('limit') ?? '100';
  const { entries } = await api<{ entries: AuditRow[] }>(
    'GET',
    `audit?limit=${encodeURIComponent(limit)}`,
  );
  const form = filterForm(
    [h('label', {}, 'Show ', select('limit', ['50', '100', '500'], limit), ' entries')],
    'Show',
    (form) => ctx.go(hashOf('audit', { limit: formValue(form, 'limit') })),
    false,
  );
  return [
    pageHeader('Audit log'),
    h(
      'p',
      { class: 'lede' },
      'Every write an admin made: who, what, when and from where. Secrets are never recorded.',
    ),
    form,
    table<AuditRow>(
      [
        { label: 'When', cell: (e) => when(e.at) },
        { label: 'Who', cell: (e) => h('strong', {}, actorName(e.actor)) },
        { label: 'Action', cell: (e) => h('code', {}, e.action) },
        { label: 'Target', cell: (e) => e.target ?? dash() },
        { label: 'IP', cell: (e) => (e.ip ? h('code', {}, e.ip) : dash()) },
        {
          label: 'Detail',
          cell: (e) =>
            e.detail === null || Object.keys(e.detail).length === 0
              ? dash()
              : h(
                  'span',
                  { class: 'mono' },
                  Object.entries(e.detail)
                    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
                    .join(' '),
                ),
        },
      ],
      entries,
      'Nothing recorded yet.',
    ),
  ];
};
