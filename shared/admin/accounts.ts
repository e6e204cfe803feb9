import {
  type AppConfig,
  type EntryResult,
  type MerchantConfig,
  parseAppEntry,
  parseMerchantEntry,
} from '../config/apps';
import { AppError } from '../http/errors';
import type { Deps } from '../platform/deps';
import type { AppRecord, MerchantRecord, Unreadable } from '../store';
import { appView, merchantView, urlView } from './views';

// Apps and merchants made in the console, stored beside the apps file's: checked by the apps
// file's own validator, secrets sealed as the file's are, written with `source: 'api'`. Rows the
// file lists are the file's: the console does not change them (the next cold start would
// overwrite the change anyway).

const FILE_OWNED = 'listed in the apps file; change it there';

/** A 400 naming every problem (field and rule, never a value). */
function valid<T>(r: EntryResult<T>): T {
  if (!r.ok) throw new AppError('BAD_REQUEST', r.problems.join('; '));
  return r.value;
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('BAD_REQUEST', `the body must be a JSON object (one ${what})`);
  }
  return body as Record<string, unknown>;
}

/**
 * Every instance's registry serves a row for up to its TTL (30 s) before reading it again; this
 * instance forgets at once, so the console sees its own change on its next request.
 */
function changed(deps: Deps): void {
  deps.apps.forget();
  deps.merchants.forget();
}

/** Creates an app from its apps-file shape; 409 when the name exists. */
export async function createApp(deps: Deps, body: unknown) {
  const app = valid(parseAppEntry(object(body, 'app')));
  if (!(await deps.store.apps.create(app, 'api', deps.clock.now()))) {
    throw new AppError('CONFLICT', `an app named "${app.name}" exists`);
  }
  changed(deps);
  return appView(await requireApp(deps, app.name));
}

/** The stored app named `name` (enabled or not); 404 when there is none. */
export async function requireApp(deps: Deps, name: string): Promise<AppRecord> {
  const app = await deps.store.apps.get(name);
  if (app === undefined) throw new AppError('NOT_FOUND', `no app named "${name.slice(0, 64)}"`);
  return app;
}

/** The apps-file entry a stored app was written from (its secrets opened). */
function appEntry(a: AppRecord): Record<string, unknown> {
  return {
    name: a.name,
    kind: a.kind,
    appId: a.appId,
    ...(a.appSecret === undefined ? {} : { appSecret: a.appSecret }),
    ...(a.token === undefined ? {} : { token: a.token }),
    ...(a.encodingAesKey === undefined ? {} : { encodingAesKey: a.encodingAesKey }),
    tokenMode: a.tokenMode,
    ...(a.configuredMessageMode === undefined ? {} : { messageMode: a.configuredMessageMode }),
    forward: a.forward,
    ...(a.authRedirectUrl === undefined ? {} : { authRedirectUrl: a.authRedirectUrl }),
    ...(a.oauthRedirects === undefined ? {} : { oauthRedirects: a.oauthRedirects }),
    ...(a.oauthComponent === undefined ? {} : { oauthComponent: a.oauthComponent }),
    ...(a.devId === undefined ? {} : { devId: a.devId }),
    ...(a.providerCorpId === undefined ? {} : { providerCorpId: a.providerCorpId }),
    enabled: a.enabled,
  };
}

/**
 * Refuses a patch that would drop a sealed value that is set but does not open (its field reads
 * as absent): the admin must give a new value for it.
 */
function keepUnreadable(
  r: { unreadable?: Unreadable[] | undefined },
  patch: Record<string, unknown>,
  fields: Record<string, string>,
): void {
  for (const u of r.unreadable ?? []) {
    const field = fields[u.column];
    if (field !== undefined && patch[field] === undefined) {
      throw new AppError(
        'CONFLICT',
        `${field} is stored but does not open (${u.code}); give a new ${field} with this change`,
      );
    }
  }
}

/**
 * The console shows URLs without user info or query ({@link urlView}): a patched URL that is the
 * shown form of exactly one stored URL with hidden parts means that stored URL, so a rule edited
 * and sent back as shown keeps its credentials. Any other URL is taken as given.
 */
function restoreUrl(given: unknown, stored: readonly string[]): unknown {
  if (typeof given !== 'string') return given;
  const same = new Set(stored.filter((s) => s !== given && urlView(s).url === given));
  return same.size === 1 ? [...same][0] : given;
}

/** `patch` with its `forward` rules' (and `authRedirectUrl`'s) shown URLs restored. */
function restoreUrls(
  patch: Record<string, unknown>,
  current: { forward: readonly { url: string }[]; authRedirectUrl?: string | undefined },
): Record<string, unknown> {
  const out = { ...patch };
  const stored = current.forward.map((r) => r.url);
  if (Array.isArray(patch.forward)) {
    out.forward = patch.forward.map((rule: unknown) =>
      typeof rule === 'object' && rule !== null && !Array.isArray(rule) && 'url' in rule
        ? { ...rule, url: restoreUrl(rule.url, stored) }
        : rule,
    );
  }
  if (patch.authRedirectUrl !== undefined && current.authRedirectUrl !== undefined) {
    out.authRedirectUrl = restoreUrl(patch.authRedirectUrl, [current.authRedirectUrl]);
  }
  return out;
}

/** Changes the fields given (a secret given replaces it, absent keeps it); `name` is fixed. */
export async function patchApp(deps: Deps, name: string, body: unknown) {
  const patch = object(body, 'app');
  const current = await requireApp(deps, name);
  if (current.source === 'file') throw new AppError('CONFLICT', `app "${name}" is ${FILE_OWNED}`);
  if (patch.name !== undefined && patch.name !== name) {
    throw new AppError('BAD_REQUEST', 'name cannot be changed');
  }
  keepUnreadable(current, patch, {
    'apps.app_secret': 'appSecret',
    'apps.callback_token': 'token',
    'apps.encoding_aes_key': 'encodingAesKey',
  });
  const next: AppConfig = valid(
    parseAppEntry({ ...appEntry(current), ...restoreUrls(patch, current) }),
  );
  await deps.store.apps.upsert(next, 'api', deps.clock.now());
  changed(deps);
  return { view: appView(await requireApp(deps, name)), fields: Object.keys(patch).sort() };
}

/** Creates a merchant from its apps-file shape; 409 when the name exists. */
export async function createMerchant(deps: Deps, body: unknown) {
  const m = valid(parseMerchantEntry(object(body, 'merchant')));
  if (!(await deps.store.merchants.create(m, 'api', deps.clock.now()))) {
    throw new AppError('CONFLICT', `a merchant named "${m.name}" exists`);
  }
  changed(deps);
  return merchantView(await requireMerchant(deps, m.name));
}

/** The stored merchant named `name` (enabled or not); 404 when there is none. */
export async function requireMerchant(deps: Deps, name: string): Promise<MerchantRecord> {
  const m = await deps.store.merchants.get(name);
  if (m === undefined) {
    throw new AppError('NOT_FOUND', `no merchant named "${name.slice(0, 64)}"`);
  }
  return m;
}

function merchantEntry(m: MerchantRecord): Record<string, unknown> {
  return {
    name: m.name,
    mchId: m.mchId,
    ...(m.appId === undefined ? {} : { appId: m.appId }),
    ...(m.apiV3Key === '' ? {} : { apiV3Key: m.apiV3Key }),
    serialNo: m.serialNo,
    ...(m.privateKey === '' ? {} : { privateKey: m.privateKey }),
    ...(m.publicKeyId === undefined ? {} : { publicKeyId: m.publicKeyId }),
    ...(m.publicKey === undefined ? {} : { publicKey: m.publicKey }),
    platformCertificates: m.platformCertificates.map((c) => ({
      serialNo: c.serialNo,
      certificate: c.certificate,
    })),
    forward: m.forward,
    enabled: m.enabled,
  };
}

/** Changes the fields given of a console-made merchant (secrets: given replaces, absent keeps). */
export async function patchMerchant(deps: Deps, name: string, body: unknown) {
  const patch = object(body, 'merchant');
  const current = await requireMerchant(deps, name);
  if (current.source === 'file') {
    throw new AppError('CONFLICT', `merchant "${name}" is ${FILE_OWNED}`);
  }
  if (patch.name !== undefined && patch.name !== name) {
    throw new AppError('BAD_REQUEST', 'name cannot be changed');
  }
  keepUnreadable(current, patch, {
    'merchants.api_v3_key': 'apiV3Key',
    'merchants.private_key': 'privateKey',
  });
  const next: MerchantConfig = valid(
    parseMerchantEntry({ ...merchantEntry(current), ...restoreUrls(patch, current) }),
  );
  await deps.store.merchants.upsert(next, 'api', deps.clock.now());
  changed(deps);
  return {
    view: merchantView(await requireMerchant(deps, name)),
    fields: Object.keys(patch).sort(),
  };
}
