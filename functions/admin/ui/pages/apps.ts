import { api } from '../api';
import { h } from '../dom';
import type { Page, PageContext } from '../page';
import type { AppRow } from '../types';
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
  select,
  table,
  when,
} from '../ui';
import { forwardField, forwardSummary, parseForward } from './forward';

const KINDS = ['official', 'miniprogram', 'component', 'wecom', 'douyin'];
const SECRETS = [
  ['appSecret', 'App secret'],
  ['token', 'Message token'],
  ['encodingAesKey', 'EncodingAESKey'],
] as const;

/** The form's values as the API takes them: secrets only when typed, optional fields when set. */
function appBody(form: HTMLFormElement, creating: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (creating) {
    body.name = formValue(form, 'name');
    body.kind = formValue(form, 'kind');
  }
  body.appId = formValue(form, 'appId');
  body.tokenMode = formValue(form, 'tokenMode');
  const mode = formValue(form, 'messageMode');
  if (mode !== '') body.messageMode = mode;
  const redirect = formValue(form, 'authRedirectUrl');
  if (redirect !== '') body.authRedirectUrl = redirect;
  body.forward = parseForward(formValue(form, 'forward'));
  for (const [key] of SECRETS) {
    const v = formValue(form, key);
    if (v !== '') body[key] = v;
  }
  return body;
}

function appForm(app: AppRow | undefined): HTMLElement {
  const secrets = app?.secrets ?? {};
  return h(
    'div',
    { class: 'form-grid' },
    field(
      'Name',
      h('input', {
        name: 'name',
        required: true,
        pattern: '[a-z0-9][a-z0-9_\\-]{0,63}',
        value: app?.name,
        disabled: app !== undefined,
        autocomplete: 'off',
      }),
      'Lower case, digits, _ and -; used in URLs.',
    ),
    field('Kind', select('kind', KINDS, app?.kind ?? 'official', { disabled: app !== undefined })),
    field(
      'App id',
      h('input', { name: 'appId', required: true, value: app?.appId, autocomplete: 'off' }),
    ),
    field('Token mode', select('tokenMode', ['stable', 'classic'], app?.tokenMode ?? 'stable')),
    field(
      'Message mode',
      select(
        'messageMode',
        ['', 'plain', 'compatible', 'safe'],
        app?.messageMode ?? '',
        {},
        'default for the kind',
      ),
    ),
    field(
      'Authorization redirect',
      h('input', { name: 'authRedirectUrl', type: 'url', value: app?.authRedirectUrl ?? '' }),
      'Components only.',
    ),
    SECRETS.map(([key, label]) => secretField(label, key, secrets[key] === true)),
    forwardField(app?.forward ?? []),
  );
}

const APPS: NamedKind = { path: 'apps', aNoun: 'an app', noun: 'App' };

function editApp(ctx: PageContext, app: AppRow | undefined): void {
  editNamed(APPS, app?.name, appForm(app), appBody, () => ctx.reload());
}

function secretsCell(secrets: Record<string, boolean>) {
  return h(
    'span',
    { class: 'chips' },
    SECRETS.map(([key, label]) =>
      badge(
        `${label}: ${secrets[key] === true ? 'set' : 'not set'}`,
        secrets[key] === true ? 'ok' : 'muted',
      ),
    ),
  );
}

export const appsPage: Page = async (ctx) => {
  const { apps } = await api<{ apps: AppRow[] }>('GET', 'apps');
  const fromFile = (a: AppRow) => a.source === 'file';
  return [
    pageHeader(
      'Apps',
      h(
        'button',
        { type: 'button', class: 'btn btn-primary', onclick: () => editApp(ctx, undefined) },
        'Add app',
      ),
    ),
    h(
      'p',
      { class: 'lede' },
      'Apps listed in the apps file are managed there and shown read-only; apps added here live in the database. Secrets are write-only.',
    ),
    table<AppRow>(
      [
        { label: 'Name', cell: (a) => h('strong', {}, a.name) },
        { label: 'Kind', cell: (a) => a.kind },
        { label: 'App id', cell: (a) => h('code', {}, a.appId) },
        { label: 'Source', cell: (a) => badge(a.source, fromFile(a) ? 'info' : 'muted') },
        {
          label: 'Status',
          cell: (a) => (a.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted')),
        },
        {
          label: 'Modes',
          cell: (a) => `${a.tokenMode}${a.messageMode ? ` · ${a.messageMode}` : ''}`,
        },
        { label: 'Secrets', cell: (a) => secretsCell(a.secrets) },
        { label: 'Forward', cell: (a) => forwardSummary(a.forward) },
        { label: 'Updated', cell: (a) => (a.updatedAt === undefined ? dash() : when(a.updatedAt)) },
        {
          label: 'Actions',
          cell: (a) =>
            fromFile(a)
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
                    {
                      type: 'button',
                      class: 'btn',
                      onclick: () => editApp(ctx, a),
                      'aria-label': `Edit ${a.name}`,
                    },
                    'Edit',
                  ),
                  actionButton(
                    a.enabled ? 'Disable' : 'Enable',
                    async () => {
                      await api('PATCH', `apps/${encodeURIComponent(a.name)}`, {
                        enabled: !a.enabled,
                      });
                      flash(`App ${a.name} ${a.enabled ? 'disabled' : 'enabled'}.`);
                      ctx.reload();
                    },
                    { 'aria-label': `${a.enabled ? 'Disable' : 'Enable'} ${a.name}` },
                  ),
                ),
        },
      ],
      apps,
      'No apps yet. Add one, or list them in the apps file.',
    ),
  ];
};
