import { api } from '../api';
import { h, replace } from '../dom';
import type { Page, PageContext } from '../page';
import type { ApiKey } from '../types';
import {
  actionButton,
  badge,
  card,
  copyButton,
  errorBox,
  flash,
  formValue,
  pageHeader,
  table,
  when,
} from '../ui';

function keysTable(keys: ApiKey[], ctx: PageContext): HTMLElement {
  return table<ApiKey>(
    [
      { label: 'Name', cell: (k) => h('strong', {}, k.name) },
      { label: 'Key', cell: (k) => h('code', {}, `${k.prefix}…`) },
      { label: 'Created', cell: (k) => when(k.createdAt) },
      { label: 'Last used', cell: (k) => when(k.lastUsedAt) },
      {
        label: 'Status',
        cell: (k) =>
          k.revokedAt === null
            ? badge('active', 'ok')
            : h('span', {}, badge('revoked', 'muted'), ' ', when(k.revokedAt)),
      },
      {
        label: '',
        cell: (k) =>
          k.revokedAt !== null
            ? null
            : actionButton(
                'Revoke',
                async () => {
                  if (!window.confirm(`Revoke key "${k.name}"? Services using it will get 401.`)) {
                    return;
                  }
                  await api('DELETE', `keys/${encodeURIComponent(String(k.id))}`);
                  flash(`Key "${k.name}" revoked.`);
                  ctx.reload();
                },
                { class: 'btn btn-danger', 'aria-label': `Revoke ${k.name}` },
              ),
      },
    ],
    keys,
    'No keys made in the console yet.',
  );
}

export const keysPage: Page = async (ctx) => {
  const { keys } = await api<{ keys: ApiKey[] }>('GET', 'keys');
  const shown = h('div', { 'aria-live': 'polite' });
  const list = h('div', {}, keysTable(keys, ctx));
  const form = h(
    'form',
    { class: 'form-row' },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'key-name' }, 'Name'),
      h('input', {
        id: 'key-name',
        name: 'name',
        required: true,
        autocomplete: 'off',
        placeholder: 'orders-service',
      }),
    ),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const created = await api<{ id: number | string; name: string; key: string }>(
        'POST',
        'keys',
        {
          name: formValue(form, 'name'),
        },
      );
      form.reset();
      // Shown once: the value lives only in this box, gone when the page changes.
      const code = h('code', { class: 'secret-once', 'data-testid': 'new-key' }, created.key);
      replace(
        shown,
        h(
          'div',
          { class: 'alert alert-warn', role: 'status' },
          h(
            'p',
            {},
            h('strong', {}, `Key "${created.name}" created.`),
            ' Copy it now: it is shown only this once.',
          ),
          h('p', {}, code),
          h('p', {}, copyButton(created.key, code)),
        ),
      );
      replace(list, keysTable((await api<{ keys: ApiKey[] }>('GET', 'keys')).keys, ctx));
    } catch (err) {
      replace(shown, errorBox(err));
    }
  });
  return [
    pageHeader('API keys'),
    h(
      'p',
      { class: 'lede' },
      'Bearer keys for the internal routes (/v1/…, /openapi.json, /metrics), beside WXHUB_API_KEYS. Stored hashed: a key is shown once, when it is made.',
    ),
    card('New key', form, shown),
    list,
  ];
};
