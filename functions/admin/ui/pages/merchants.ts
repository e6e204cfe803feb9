import { api } from '../api';
import { h } from '../dom';
import type { Page, PageContext } from '../page';
import type { MerchantRow } from '../types';
import {
  actionButton,
  badge,
  dash,
  editNamed,
  field,
  flash,
  formValue,
  type NamedKind,
  pageHeader,
  secretField,
  table,
  when,
} from '../ui';
import { forwardField, forwardSummary, parseForward } from './forward';

const SECRETS = [
  ['apiV3Key', 'API v3 key', false],
  ['privateKey', 'Merchant private key (PEM)', true],
] as const;

function merchantBody(form: HTMLFormElement, creating: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (creating) body.name = formValue(form, 'name');
  body.mchId = formValue(form, 'mchId');
  body.serialNo = formValue(form, 'serialNo');
  for (const key of ['appId', 'publicKeyId', 'publicKey']) {
    const v = formValue(form, key);
    if (v !== '') body[key] = v;
  }
  body.forward = parseForward(formValue(form, 'forward'));
  for (const [key] of SECRETS) {
    const v = formValue(form, key);
    if (v !== '') body[key] = v;
  }
  return body;
}

function merchantForm(m: MerchantRow | undefined): HTMLElement {
  return h(
    'div',
    { class: 'form-grid' },
    field(
      'Name',
      h('input', {
        name: 'name',
        required: true,
        value: m?.name,
        disabled: m !== undefined,
        autocomplete: 'off',
      }),
      'Lower case, digits, _ and -.',
    ),
    field(
      'Merchant number (mchid)',
      h('input', { name: 'mchId', required: true, inputmode: 'numeric', value: m?.mchId }),
    ),
    field('App id', h('input', { name: 'appId', value: m?.appId ?? '' })),
    field(
      'Certificate serial',
      h('input', {
        name: 'serialNo',
        required: m === undefined,
        value: m?.serialNo ?? '',
        class: 'mono',
      }),
    ),
    field(
      'Platform public key id',
      h('input', { name: 'publicKeyId', value: m?.publicKeyId ?? '', placeholder: 'PUB_KEY_ID_…' }),
    ),
    field(
      'Platform public key (PEM)',
      h('textarea', {
        name: 'publicKey',
        rows: 3,
        class: 'mono',
        placeholder: m === undefined ? '' : 'leave empty to keep',
      }),
    ),
    SECRETS.map(([key, label, multi]) => secretField(label, key, m?.secrets[key] === true, multi)),
    forwardField(m?.forward ?? []),
  );
}

const MERCHANTS: NamedKind = { path: 'merchants', aNoun: 'a merchant', noun: 'Merchant' };

function editMerchant(ctx: PageContext, m: MerchantRow | undefined): void {
  editNamed(MERCHANTS, m?.name, merchantForm(m), merchantBody, () => ctx.reload());
}

export const merchantsPage: Page = async (ctx) => {
  const { merchants } = await api<{ merchants: MerchantRow[] }>('GET', 'merchants');
  return [
    pageHeader(
      'Merchants',
      h(
        'button',
        { type: 'button', class: 'btn btn-primary', onclick: () => editMerchant(ctx, undefined) },
        'Add merchant',
      ),
    ),
    h(
      'p',
      { class: 'lede' },
      'WeChat Pay merchants. The API v3 key and the private key are write-only.',
    ),
    table<MerchantRow>(
      [
        { label: 'Name', cell: (m) => h('strong', {}, m.name) },
        { label: 'mchid', cell: (m) => h('code', {}, m.mchId) },
        { label: 'App id', cell: (m) => (m.appId ? h('code', {}, m.appId) : dash()) },
        { label: 'Source', cell: (m) => badge(m.source, m.source === 'file' ? 'info' : 'muted') },
        {
          label: 'Status',
          cell: (m) => (m.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted')),
        },
        {
          label: 'Secrets',
          cell: (m) =>
            h(
              'span',
              { class: 'chips' },
              SECRETS.map(([key, label]) =>
                badge(
                  `${label.split(' (')[0]}: ${m.secrets[key] === true ? 'set' : 'not set'}`,
                  m.secrets[key] === true ? 'ok' : 'muted',
                ),
              ),
            ),
        },
        { label: 'Forward', cell: (m) => forwardSummary(m.forward) },
        { label: 'Updated', cell: (m) => (m.updatedAt === undefined ? dash() : when(m.updatedAt)) },
        {
          label: 'Actions',
          cell: (m) =>
            m.source === 'file'
              ? h(
                  'span',
                  { class: 'dim', title: 'listed in the apps file; change it there' },
                  'apps file',
                )
              : h(
                  'span',
                  { class: 'row-actions' },
                  h(
                    'button',
                    { type: 'button', class: 'btn', onclick: () => editMerchant(ctx, m) },
                    'Edit',
                  ),
                  actionButton(m.enabled ? 'Disable' : 'Enable', async () => {
                    await api('PATCH', `merchants/${encodeURIComponent(m.name)}`, {
                      enabled: !m.enabled,
                    });
                    flash(`Merchant ${m.name} ${m.enabled ? 'disabled' : 'enabled'}.`);
                    ctx.reload();
                  }),
                ),
        },
      ],
      merchants,
      'No merchants yet.',
    ),
  ];
};
