import { api } from '../api';
import { h, replace } from '../dom';
import { relative } from '../format';
import { hashOf, type Page } from '../page';
import type { CredentialRow } from '../types';
import {
  actionButton,
  dash,
  filterForm,
  flash,
  formValue,
  pageHeader,
  textFilter,
  when,
} from '../ui';

function filters(params: URLSearchParams, go: (hash: string) => void): HTMLElement {
  return filterForm(
    [
      textFilter('Owner', 'owner', params.get('owner') ?? '', 'app:shop, merchant:pay…'),
      textFilter('Kind', 'kind', params.get('kind') ?? '', 'access_token…'),
    ],
    'Filter',
    (form) =>
      go(hashOf('credentials', { owner: formValue(form, 'owner'), kind: formValue(form, 'kind') })),
  );
}

export const credentialsPage: Page = async (ctx) => {
  const { credentials } = await api<{ credentials: CredentialRow[] }>(
    'GET',
    `credentials?${new URLSearchParams(ctx.params).toString()}`,
  );
  const rowOf = (r: CredentialRow): HTMLTableRowElement | null =>
    document.querySelector(`tr[data-key="${CSS.escape(`${r.owner}/${r.kind}`)}"]`);
  const cells = (r: CredentialRow) => [
    h('td', {}, h('strong', {}, r.owner)),
    h('td', {}, h('code', {}, r.kind)),
    h('td', {}, h('code', { class: 'masked' }, r.masked)),
    h('td', {}, when(r.expiresAt)),
    h('td', { class: 'num' }, r.version ?? '—'),
    h('td', {}, when(r.refreshedAt)),
    h(
      'td',
      {},
      r.lastError === null ? dash() : h('span', { class: 'error-text' }, r.lastError.message),
    ),
    h(
      'td',
      {},
      actionButton(
        'Refresh now',
        async () => {
          const fresh = await api<CredentialRow>('POST', 'credentials/refresh', {
            owner: r.owner,
            kind: r.kind,
          });
          const tr = rowOf(r);
          if (tr !== null) replace(tr, cells(fresh));
          flash(
            `Refreshed ${r.owner} ${r.kind}: version ${fresh.version ?? '?'}, expires ${fresh.expiresAt === null ? 'never' : relative(fresh.expiresAt)}.`,
          );
        },
        { 'aria-label': `Refresh ${r.owner} ${r.kind} now` },
      ),
    ),
  ];
  const head = ['Owner', 'Kind', 'Value', 'Expires', 'Version', 'Refreshed', 'Last error', ''];
  return [
    pageHeader('Credentials'),
    h(
      'p',
      { class: 'lede' },
      'Values are masked (first and last 4 characters at most). "Refresh now" fetches a new one under the lease, as the timer does.',
    ),
    filters(ctx.params, ctx.go),
    credentials.length === 0
      ? h('p', { class: 'empty' }, 'No credentials match.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                head.map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              credentials.map((r) => h('tr', { 'data-key': `${r.owner}/${r.kind}` }, cells(r))),
            ),
          ),
        ),
  ];
};
