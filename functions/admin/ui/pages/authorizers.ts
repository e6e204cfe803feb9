import { api } from '../api';
import { h, replace } from '../dom';
import { hashOf, type Page } from '../page';
import type { AppRow, Authorizer } from '../types';
import {
  actionButton,
  card,
  copyButton,
  dash,
  errorBox,
  field,
  filterForm,
  flash,
  formValue,
  pageHeader,
  select,
  statusBadge,
  table,
  when,
} from '../ui';

function linkGenerator(components: AppRow[]): HTMLElement {
  const out = h('div', { class: 'link-out', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'form-row' },
    field(
      'Component',
      select(
        'app',
        components.map((c) => c.name),
      ),
    ),
    field(
      'Page',
      h(
        'select',
        { name: 'type' },
        h('option', { value: 'pc' }, 'PC (QR code)'),
        h('option', { value: 'h5' }, 'H5 (in WeChat)'),
      ),
    ),
    field(
      'Accounts',
      h(
        'select',
        { name: 'authType' },
        h('option', { value: '' }, 'default'),
        h('option', { value: '1' }, 'official accounts'),
        h('option', { value: '2' }, 'mini programs'),
        h('option', { value: '3' }, 'both'),
      ),
    ),
    field(
      'Only this app id',
      h('input', { name: 'bizAppId', autocomplete: 'off', placeholder: 'optional' }),
    ),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Generate link'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body: Record<string, string | number> = { type: formValue(form, 'type') };
    if (formValue(form, 'authType') !== '') body.authType = Number(formValue(form, 'authType'));
    if (formValue(form, 'bizAppId') !== '') body.bizAppId = formValue(form, 'bizAppId');
    try {
      const link = await api<{ url: string; expiresAt: string }>(
        'POST',
        `components/${encodeURIComponent(formValue(form, 'app'))}/auth-link`,
        body,
      );
      const code = h('code', { class: 'wrap' }, link.url);
      replace(
        out,
        h(
          'div',
          { class: 'alert alert-info' },
          h(
            'p',
            {},
            'Send this link to the account admin (valid until ',
            when(link.expiresAt),
            '):',
          ),
          h('p', {}, code),
          h(
            'p',
            {},
            copyButton(link.url, code),
            ' ',
            h('a', { href: link.url, target: '_blank', rel: 'noopener noreferrer' }, 'Open'),
          ),
        ),
      );
    } catch (err) {
      replace(out, errorBox(err));
    }
  });
  return h('div', {}, form, out);
}

export const authorizersPage: Page = async (ctx) => {
  const { apps } = await api<{ apps: AppRow[] }>('GET', 'apps');
  const components = apps.filter((a) => a.kind === 'component');
  if (components.length === 0) {
    return [
      pageHeader('Authorizers'),
      h('p', { class: 'empty' }, 'No third-party platform (component app) is configured.'),
    ];
  }
  const app = ctx.params.get('app') ?? components[0]?.name ?? '';
  const status = ctx.params.get('status') ?? '';
  const offset = Number(ctx.params.get('offset') ?? '0') || 0;
  const limit = 50;
  const answer = await api<{ authorizers: Authorizer[]; total?: number }>(
    'GET',
    `authorizers?${new URLSearchParams({ app, ...(status === '' ? {} : { status }), offset: String(offset), limit: String(limit) }).toString()}`,
  );
  const form = filterForm(
    [
      h(
        'label',
        {},
        'Component ',
        select(
          'app',
          components.map((c) => c.name),
          app,
        ),
      ),
      h('label', {}, 'Status ', select('status', ['', 'authorized', 'revoked'], status)),
    ],
    'Show',
    (form) =>
      ctx.go(
        hashOf('authorizers', { app: formValue(form, 'app'), status: formValue(form, 'status') }),
      ),
  );
  const total = answer.total ?? answer.authorizers.length;
  const pager = h(
    'p',
    { class: 'pager' },
    `${total} in all. `,
    offset > 0
      ? h(
          'a',
          {
            class: 'btn',
            href: hashOf('authorizers', {
              app,
              status,
              offset: String(Math.max(0, offset - limit)),
            }),
          },
          '← Previous',
        )
      : null,
    offset + limit < total
      ? h(
          'a',
          {
            class: 'btn',
            href: hashOf('authorizers', { app, status, offset: String(offset + limit) }),
          },
          'Next →',
        )
      : null,
  );
  return [
    pageHeader(
      'Authorizers',
      actionButton(`Sync ${app} from WeChat`, async () => {
        const result = await api<Record<string, unknown>>(
          'POST',
          `components/${encodeURIComponent(app)}/sync`,
        );
        flash(
          `Synced ${app}: ${Object.entries(result)
            .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
            .join(', ')}.`,
        );
        ctx.reload();
      }),
    ),
    card('Authorization link', linkGenerator(components)),
    form,
    table<Authorizer>(
      [
        { label: 'App id', cell: (a) => h('code', {}, a.appId) },
        { label: 'Name', cell: (a) => a.nickName ?? a.userName ?? dash() },
        { label: 'Status', cell: (a) => statusBadge(a.status) },
        {
          label: 'Permissions',
          cell: (a) =>
            a.funcInfo && a.funcInfo.length > 0
              ? h(
                  'span',
                  { class: 'mono', title: 'WeChat permission set ids (funcscope_category)' },
                  a.funcInfo.join(', '),
                )
              : dash(),
        },
        { label: 'Authorized', cell: (a) => when(a.authorizedAt) },
        { label: 'Revoked', cell: (a) => when(a.revokedAt) },
      ],
      answer.authorizers,
      'No authorizers yet: send an authorization link.',
    ),
    pager,
  ];
};
