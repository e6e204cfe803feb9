import { createHash, randomBytes } from 'node:crypto';
import { AppError, WechatApiError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AppRecord, CredentialKey } from '../store';
import { TICKET_TYPES, ticketKind } from '../tokens/app-tokens';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import { type ComponentDeps, requireComponent, withComponentToken } from './component';
import { findListedAuthorizer, recordAuthorized, recordRevoked } from './directory';

/**
 * Authorizers of a third-party platform: the accounts whose admin authorized it. The
 * `authorized` / `updateauthorized` push carries a single-use AuthorizationCode
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html)
 * that `api_query_auth` exchanges for the authorizer's tokens
 * (https://developers.weixin.qq.com/doc/oplatform/openApi/ticket-token/api_getauthorizerrefreshtoken);
 * `api_authorizer_token` renews the access token from the refresh token and may rotate it
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html).
 */

export const QUERY_AUTH_PATH = '/cgi-bin/component/api_query_auth';
export const AUTHORIZER_TOKEN_PATH = '/cgi-bin/component/api_authorizer_token';
/** Credential kinds of an authorizer (owner {@link authorizerOwner}). */
export const AUTHORIZER_REFRESH_KIND = 'authorizer_refresh_token';
export const AUTHORIZER_TOKEN_KIND = 'authorizer_access_token';
/** Its tickets (`jsapi_ticket`, `wx_card_ticket`), fetched with its access token. */
export const AUTHORIZER_TICKET_KINDS = TICKET_TYPES.map(ticketKind);
/** Its status row: `authorized:<sha256 of the last code exchanged>` or `revoked`. */
export const AUTHORIZER_STATUS_KIND = 'authorizer_status';
/** Rows that do not expire (refresh token, status) carry this far-future expiry. */
export const NO_EXPIRY = Date.UTC(9999, 0, 1);
const REVOKED = 'revoked';

/** What every {@link authorizerOwner} starts with. */
export const AUTHORIZER_OWNER_PREFIX = 'authorizer:';

/** Credential owner of an authorizer of component `app`. */
export function authorizerOwner(app: AppRecord, authorizerAppId: string): string {
  return `${AUTHORIZER_OWNER_PREFIX}${app.name}:${authorizerAppId}`;
}

/** The component name and authorizer appid of an {@link authorizerOwner}; undefined otherwise. */
export function parseAuthorizerOwner(
  owner: string,
): { name: string; authorizerAppId: string } | undefined {
  const m = /^authorizer:([^:]+):([^:]+)$/.exec(owner);
  return m?.[1] === undefined || m[2] === undefined
    ? undefined
    : { name: m[1], authorizerAppId: m[2] };
}

const keyOf = (app: AppRecord, authorizerAppId: string, kind: string): CredentialKey => ({
  owner: authorizerOwner(app, authorizerAppId),
  kind,
});

/** What authorizer handling needs: component deps plus the credential manager and a log. */
export interface AuthorizerDeps extends ComponentDeps {
  tokens: TokenManager;
  log: Logger;
  instanceId: string;
}

/** `authorization_info` of `api_query_auth` (tokens only with API permissions). */
export interface AuthorizationInfo {
  authorizer_appid?: unknown;
  authorizer_access_token?: unknown;
  expires_in?: unknown;
  authorizer_refresh_token?: unknown;
  func_info?: unknown;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** An appid fit for a credential owner (no `:`), else undefined. */
const appIdOf = (v: unknown): string | undefined => {
  const s = text(v);
  return s !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(s) ? s : undefined;
};

/** Credential kind of an authorization code's row (owner {@link authorizationCodeOwner}). */
export const AUTHORIZATION_CODE_KIND = 'authorization_code';
/** Owner prefix of the authorization-code rows (`authcode:<component>:<sha256 of the code>`). */
export const AUTHORIZATION_CODE_OWNER_PREFIX = 'authcode:';
/**
 * A component's revocation counter (owner `app:<name>`): its row's version moves with every
 * `unauthorized`, so an exchange can tell that a revocation happened while it ran.
 */
export const REVOCATIONS_KIND = 'authorizer_revocations';

/** SHA-256 of an authorization code, hex: the only form a code takes in keys and logs. */
export const codeHash = (code: string): string => createHash('sha256').update(code).digest('hex');

/**
 * Credential owner of the row that leases the exchange of one authorization code: keyed by the
 * code (a hash of it), since the browser's redirect carries the code and not the authorizer.
 */
export function authorizationCodeOwner(app: AppRecord, code: string): string {
  return `${AUTHORIZATION_CODE_OWNER_PREFIX}${app.name}:${codeHash(code)}`;
}

/** Where a code came from: the `authorized`/`updateauthorized` push, or WeChat's redirect. */
export type CodeSource = { kind: 'push'; authorizerAppId: string } | { kind: 'redirect' };

/** What {@link exchangeAuthorizationCode} did. */
export type ExchangeResult =
  /** This call exchanged the code (`stored`: false when a revocation came in meanwhile). */
  | { outcome: 'exchanged'; authorizerAppId: string; stored: boolean }
  /** The code was exchanged before (by another delivery or the redirect). */
  | { outcome: 'done'; authorizerAppId: string }
  /** Another delivery holds the exchange (a push leaves it to that one). */
  | { outcome: 'busy' };

/** How long one exchange holds its code's lease (longer than a token fetch plus the call). */
const EXCHANGE_LEASE_MS = 30_000;
/** How long one authorizer write (tokens and status, or a revocation) holds the status lease. */
const WRITE_LEASE_MS = 10_000;
/** Polls, 100 ms apart, for a lease held by another exchange or revocation (about 5 s). */
const WAIT_POLLS = 50;
const POLL_MS = 100;
const pause = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));

const leaseOwnerOf = (deps: { instanceId?: string }) =>
  `${deps.instanceId ?? 'hub'}:${randomBytes(6).toString('hex')}`;

/** Claims `key`'s lease, polling while another holder has it; false when it stayed taken. */
async function claimWithin(deps: ComponentDeps, key: CredentialKey, owner: string) {
  for (let i = 0; i <= WAIT_POLLS; i++) {
    if (await deps.store.credentials.claimLease(key, owner, deps.clock.now(), WRITE_LEASE_MS)) {
      return true;
    }
    if (i < WAIT_POLLS) await pause();
  }
  return false;
}

/**
 * Takes the lease of an authorizer's status row (polling a while for another holder), which
 * every write of its tokens and status holds; 503 UNAVAILABLE (`then` says what follows) when it
 * stayed taken.
 */
async function claimStatus(
  deps: ComponentDeps & { instanceId?: string },
  app: AppRecord,
  authorizerAppId: string,
  then: string,
): Promise<{ statusKey: CredentialKey; leaseOwner: string }> {
  const statusKey = keyOf(app, authorizerAppId, AUTHORIZER_STATUS_KIND);
  const leaseOwner = leaseOwnerOf(deps);
  await deps.store.credentials.ensure(statusKey, deps.clock.now());
  if (!(await claimWithin(deps, statusKey, leaseOwner))) {
    throw new AppError('UNAVAILABLE', `the authorizer is being updated; ${then}`);
  }
  return { statusKey, leaseOwner };
}

/**
 * Exchanges an authorization code with `api_query_auth` exactly once, whichever of the push's
 * deliveries and the browser's redirect comes first: a lease on the code's own row (owner from a
 * hash of the code) lets one caller exchange; a push that loses returns at once, a redirect waits
 * briefly for the winner's result. A code already exchanged is a no-op that still names its
 * authorizer. Tokens are sealed; an account without API permissions is stored without them.
 * Throws when the exchange fails (the code's row is removed, so the next delivery retries).
 */
export async function exchangeAuthorizationCode(
  deps: AuthorizerDeps,
  app: AppRecord,
  code: string,
  source: CodeSource,
): Promise<ExchangeResult> {
  requireComponent(app);
  const creds = deps.store.credentials;
  const codeKey = { owner: authorizationCodeOwner(app, code), kind: AUTHORIZATION_CODE_KIND };
  const leaseOwner = leaseOwnerOf(deps);
  for (let i = 0; ; i++) {
    // The row exists while the code is being exchanged or once it was; a failed exchange removes it.
    await creds.ensure(codeKey, deps.clock.now());
    if (await creds.claimLease(codeKey, leaseOwner, deps.clock.now(), EXCHANGE_LEASE_MS)) break;
    const done = (await creds.get(codeKey))?.value;
    if (done !== undefined) return { outcome: 'done', authorizerAppId: done };
    if (source.kind === 'push') return { outcome: 'busy' };
    if (i >= WAIT_POLLS) {
      throw new AppError('UNAVAILABLE', 'the authorization is still being completed; reload');
    }
    await pause();
  }
  let authorizerAppId: string;
  let stored: boolean;
  try {
    const done = (await creds.get(codeKey))?.value;
    if (done !== undefined) {
      await creds.releaseLease(codeKey, leaseOwner);
      return { outcome: 'done', authorizerAppId: done };
    }
    const revocations = (await creds.get(revocationsKey(app)))?.version ?? 0;
    const startedAt = deps.clock.now();
    const r = await withComponentToken(deps, app, (componentToken) =>
      callWechatJson<{ authorization_info?: AuthorizationInfo }>(
        deps.wechat,
        QUERY_AUTH_PATH,
        { component_access_token: componentToken },
        { method: 'POST', json: { component_appid: app.appId, authorization_code: code } },
      ),
    );
    const info = r.authorization_info ?? {};
    const pushed = source.kind === 'push' ? source.authorizerAppId : undefined;
    const answered = appIdOf(info.authorizer_appid);
    if (pushed !== undefined && answered !== undefined && answered !== pushed) {
      deps.log.warn({ app: app.name, authorizer: answered }, 'push named another authorizer');
    }
    const id = answered ?? appIdOf(pushed);
    if (id === undefined) {
      throw new WechatTransportError(QUERY_AUTH_PATH, 'answered without authorizer_appid');
    }
    authorizerAppId = id;
    stored = await storeAuthorization(deps, app, authorizerAppId, info, code, {
      revocations,
      startedAt,
    });
  } catch (err) {
    // Nothing is kept of a code that was not exchanged; the next delivery tries again.
    await creds.removeLeased(codeKey, leaseOwner).catch(() => false);
    throw err;
  }
  await creds.saveValue(
    codeKey,
    leaseOwner,
    { value: authorizerAppId, expiresAt: NO_EXPIRY },
    deps.clock.now(),
  );
  return { outcome: 'exchanged', authorizerAppId, stored };
}

/**
 * The component's revocation counter (its version moves on each `unauthorized`). Under the
 * authorizer owner prefix, so the refresh pass never selects its valueless row.
 */
const revocationsKey = (app: AppRecord): CredentialKey => ({
  owner: authorizerOwner(app, '*'),
  kind: REVOCATIONS_KIND,
});

/**
 * Writes an exchanged authorization under the authorizer's status lease (the one `unauthorized`
 * takes too, so the two never interleave). Returns false, writing nothing, when an `unauthorized`
 * of this authorizer was stored after the exchange began: it ends revoked.
 */
async function storeAuthorization(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  info: AuthorizationInfo,
  code: string,
  began: { revocations: number; startedAt: number },
): Promise<boolean> {
  const creds = deps.store.credentials;
  const { statusKey, leaseOwner } = await claimStatus(deps, app, authorizerAppId, 'retried');
  try {
    const status = await creds.get(statusKey);
    const revocations = (await creds.get(revocationsKey(app)))?.version ?? 0;
    if (
      status?.value === REVOKED &&
      revocations !== began.revocations &&
      (status.refreshedAt ?? 0) >= began.startedAt
    ) {
      await creds.releaseLease(statusKey, leaseOwner);
      deps.log.info(
        { app: app.name, authorizer: authorizerAppId },
        'authorization revoked while its code was exchanged; kept revoked',
      );
      return false;
    }
    const now = deps.clock.now();
    const refresh = text(info.authorizer_refresh_token);
    const token = text(info.authorizer_access_token);
    const expiresIn = typeof info.expires_in === 'number' ? info.expires_in : undefined;
    // Tokens come only when the account has API permissions; without them it is still stored.
    if (refresh !== undefined) {
      const key = keyOf(app, authorizerAppId, AUTHORIZER_REFRESH_KIND);
      await creds.put(key, { value: refresh, expiresAt: NO_EXPIRY }, now);
    }
    if (token !== undefined && expiresIn !== undefined && expiresIn > 0) {
      const key = keyOf(app, authorizerAppId, AUTHORIZER_TOKEN_KIND);
      await creds.ensure(key, now);
      await creds.put(key, { value: token, expiresAt: now + expiresIn * 1000 }, now);
      deps.tokens.forget(key);
    }
    await markAuthorized(deps, app, authorizerAppId, {
      leaseOwner,
      marker: `authorized:${codeHash(code)}`,
    });
  } catch (err) {
    await creds.releaseLease(statusKey, leaseOwner).catch(() => false);
    throw err;
  }
  // The directory entry, outside the lease (it may call api_get_authorizer_info; never throws).
  await recordAuthorized(deps, app, authorizerAppId, info);
  deps.log.info({ app: app.name, authorizer: authorizerAppId }, 'authorizer authorized');
  return true;
}

/**
 * Marks the authorizer authorized, once per exchanged code, with its status lease held
 * (`lease.leaseOwner`; saving the status row releases it).
 */
async function markAuthorized(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
  lease: { leaseOwner: string; marker: string },
): Promise<void> {
  const statusKey = keyOf(app, authorizerAppId, AUTHORIZER_STATUS_KIND);
  const saved = await deps.store.credentials.saveValue(
    statusKey,
    lease.leaseOwner,
    { value: lease.marker, expiresAt: NO_EXPIRY },
    deps.clock.now(),
  );
  if (!saved) throw new AppError('UNAVAILABLE', 'the authorizer status lease was lost; retried');
}

/**
 * Acts on an `authorized` / `updateauthorized` push (already stored): exchanges its code once
 * ({@link exchangeAuthorizationCode}). Never throws: a failed exchange is logged and retried on
 * WeChat's next delivery.
 */
export async function onAuthorized(
  deps: AuthorizerDeps,
  app: AppRecord,
  fields: Record<string, unknown>,
): Promise<void> {
  const authorizerAppId = appIdOf(fields.AuthorizerAppid);
  const code = text(fields.AuthorizationCode);
  if (authorizerAppId === undefined || code === undefined) {
    deps.log.warn({ app: app.name }, 'authorization event without AuthorizerAppid or code');
    return;
  }
  try {
    await exchangeAuthorizationCode(deps, app, code, { kind: 'push', authorizerAppId });
  } catch (err) {
    deps.log.warn(
      {
        app: app.name,
        authorizer: authorizerAppId,
        error: err instanceof Error ? err.message : 'failed',
      },
      'authorization code exchange failed; retried on the next delivery',
    );
  }
}

/**
 * Acts on `unauthorized`: under the authorizer's status lease (so an exchange finishing later
 * cannot write tokens back), the component's revocation counter moves, the tokens are cleared
 * and the authorizer is marked revoked.
 */
export async function onUnauthorized(
  deps: AuthorizerDeps,
  app: AppRecord,
  fields: Record<string, unknown>,
): Promise<void> {
  const authorizerAppId = appIdOf(fields.AuthorizerAppid);
  if (authorizerAppId === undefined) {
    throw new AppError('BAD_REQUEST', 'unauthorized event without AuthorizerAppid');
  }
  await revokeAuthorizer(deps, app, authorizerAppId);
  deps.log.info({ app: app.name, authorizer: authorizerAppId }, 'authorizer revoked');
}

/**
 * Marks an authorizer revoked under its status lease (so an exchange finishing later cannot
 * write tokens back): the component's revocation counter moves, both tokens are cleared, the
 * status row says revoked and the directory entry too.
 */
async function revokeAuthorizer(
  deps: ComponentDeps & { tokens: TokenManager; instanceId?: string },
  app: AppRecord,
  authorizerAppId: string,
): Promise<void> {
  const creds = deps.store.credentials;
  const { statusKey, leaseOwner } = await claimStatus(
    deps,
    app,
    authorizerAppId,
    'WeChat will retry',
  );
  try {
    const now = deps.clock.now();
    await creds.ensure(revocationsKey(app), now);
    await creds.clearValue(revocationsKey(app), now);
    for (const kind of [
      AUTHORIZER_TOKEN_KIND,
      AUTHORIZER_REFRESH_KIND,
      ...AUTHORIZER_TICKET_KINDS,
    ]) {
      const key = keyOf(app, authorizerAppId, kind);
      // A refresh under way (the pass's batch) cannot write its token back: its lease is gone.
      await creds.dropValue(key, now);
      deps.tokens.forget(key);
    }
    await creds.saveValue(statusKey, leaseOwner, { value: REVOKED, expiresAt: NO_EXPIRY }, now);
  } catch (err) {
    await creds.releaseLease(statusKey, leaseOwner).catch(() => false);
    throw err;
  }
  await recordRevoked(deps, app, authorizerAppId);
}

/** `authorized`, `revoked` or undefined (never authorized) for an authorizer of `app`. */
export async function authorizerStatus(
  deps: { store: AuthorizerDeps['store'] },
  app: AppRecord,
  authorizerAppId: string,
): Promise<'authorized' | 'revoked' | undefined> {
  const v = (await deps.store.credentials.get(keyOf(app, authorizerAppId, AUTHORIZER_STATUS_KIND)))
    ?.value;
  return v === undefined ? undefined : v === REVOKED ? 'revoked' : 'authorized';
}

/** An authorizer token from `api_authorizer_token`, and the rotated refresh token if any. */
export interface AuthorizerTokenAnswer {
  value: string;
  expiresIn: number;
  /** Present when WeChat rotated the refresh token: the old one works about 5 more minutes. */
  rotated?: string;
}

/** One `api_authorizer_token` call with `refresh` and the component token `componentToken`. */
export async function requestAuthorizerToken(
  deps: ComponentDeps,
  app: AppRecord,
  authorizerAppId: string,
  refresh: string,
  componentToken: string,
): Promise<AuthorizerTokenAnswer> {
  const r = await callWechatJson<{
    authorizer_access_token?: unknown;
    expires_in?: unknown;
    authorizer_refresh_token?: unknown;
  }>(
    deps.wechat,
    AUTHORIZER_TOKEN_PATH,
    { component_access_token: componentToken },
    {
      method: 'POST',
      json: {
        component_appid: app.appId,
        authorizer_appid: authorizerAppId,
        authorizer_refresh_token: refresh,
      },
    },
  );
  const value = text(r.authorizer_access_token);
  if (value === undefined || typeof r.expires_in !== 'number' || r.expires_in <= 0) {
    throw new WechatTransportError(AUTHORIZER_TOKEN_PATH, 'answered without a token');
  }
  const rotated = text(r.authorizer_refresh_token);
  return rotated !== undefined && rotated !== refresh
    ? { value, expiresIn: r.expires_in, rotated }
    : { value, expiresIn: r.expires_in };
}

/** 409: the authorization carried no refresh token (the account granted no API permissions). */
export function noRefreshToken(app: AppRecord, authorizerAppId: string): AppError {
  return new AppError(
    'CONFLICT',
    `authorizer ${authorizerAppId} of "${app.name}" has no refresh token (no API permissions granted)`,
  );
}

/** Fetches an authorizer token with the stored refresh token, keeping a rotated one. */
/** 61023: the refresh token is not (or no longer) valid. */
const REFRESH_TOKEN_INVALID = 61023;
/** 61003: the account has not authorized (or no longer authorizes) this platform. */
const NOT_AUTHORIZED = 61003;

/**
 * Fetches an authorizer token with the stored refresh token, keeping a rotated one; 61023 and
 * 61003 go through {@link recoverAuthorizerToken} (61023 that stays is recorded and not retried
 * per request).
 */
export function authorizerTokenFetcher(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
  authorizerAppId: string,
): Fetcher {
  return async (): Promise<IssuedCredential> => {
    const refreshKey = keyOf(app, authorizerAppId, AUTHORIZER_REFRESH_KIND);
    const refresh = (await deps.store.credentials.get(refreshKey))?.value;
    if (refresh === undefined) throw noRefreshToken(app, authorizerAppId);
    const r = await withComponentToken(deps, app, (componentToken) =>
      requestAuthorizerToken(deps, app, authorizerAppId, refresh, componentToken).catch(
        (err: unknown) =>
          recoverAuthorizerToken(deps, app, authorizerAppId, refresh, componentToken, err),
      ),
    );
    if (r.rotated !== undefined) {
      // The old one works about 5 more minutes; the new one must be kept.
      await deps.store.credentials.put(
        refreshKey,
        { value: r.rotated, expiresAt: NO_EXPIRY },
        deps.clock.now(),
      );
    }
    return { value: r.value, expiresIn: r.expiresIn };
  };
}

/**
 * Recovers from an `api_authorizer_token` error, as WeChat staff advise
 * (https://developers.weixin.qq.com/community/develop/doc/000880e0e845c08054bcb5e745bc00,
 * https://developers.weixin.qq.com/community/develop/doc/0000c454bf4000e068d265cef6bc00), or
 * throws:
 * - 61023 (refresh token invalid): the authorizer's `refresh_token` from `api_get_authorizer_list`
 *   is stored (sealed) and tried once; when the list has none that works, 61023 saying the
 *   authorizer must authorize again.
 * - 61003 (not authorized): confirmed with the list. Absent: revoked (status, tokens cleared,
 *   410 `REVOKED`); still listed: `err` again (transient), nothing changes.
 * - anything else: `err` again.
 * Used by the token route's fetcher and by the refresh pass's batches alike.
 */
export async function recoverAuthorizerToken(
  deps: ComponentDeps & { tokens: TokenManager; instanceId?: string },
  app: AppRecord,
  authorizerAppId: string,
  refresh: string,
  componentToken: string,
  err: unknown,
): Promise<AuthorizerTokenAnswer> {
  if (!(err instanceof WechatApiError)) throw err;
  if (err.errcode === NOT_AUTHORIZED) {
    if ((await findListedAuthorizer(deps, app, authorizerAppId)) !== undefined) throw err;
    await revokeAuthorizer(deps, app, authorizerAppId);
    throw new AppError(
      'REVOKED',
      `authorizer ${authorizerAppId} no longer authorizes "${app.name}" (61003, not in api_get_authorizer_list)`,
    );
  }
  if (err.errcode !== REFRESH_TOKEN_INVALID) throw err;
  const listed = (await findListedAuthorizer(deps, app, authorizerAppId))?.refreshToken;
  if (listed === undefined || listed === refresh) throw needsReauthorization(app, authorizerAppId);
  const refreshKey = keyOf(app, authorizerAppId, AUTHORIZER_REFRESH_KIND);
  await deps.store.credentials.put(
    refreshKey,
    { value: listed, expiresAt: NO_EXPIRY },
    deps.clock.now(),
  );
  try {
    return await requestAuthorizerToken(deps, app, authorizerAppId, listed, componentToken);
  } catch (again) {
    if (again instanceof WechatApiError && again.errcode === REFRESH_TOKEN_INVALID) {
      throw needsReauthorization(app, authorizerAppId);
    }
    throw again;
  }
}

/** 61023 that the list could not fix: only a new authorization by the account's admin can. */
function needsReauthorization(app: AppRecord, authorizerAppId: string): WechatApiError {
  return new WechatApiError(
    AUTHORIZER_TOKEN_PATH,
    REFRESH_TOKEN_INVALID,
    `refresh_token is invalid and api_get_authorizer_list has no working one for ${authorizerAppId}: its admin must authorize "${app.name}" again`,
  );
}

/**
 * Checks that `authorizerAppId` authorized component `app`: 400/409 as {@link requireComponent},
 * 404 for an authorizer this component never had, 410 REVOKED after `unauthorized`.
 */
export async function assertAuthorizer(
  deps: { store: ComponentDeps['store'] },
  app: AppRecord,
  authorizerAppId: string,
): Promise<void> {
  requireComponent(app);
  const status = await deps.store.credentials.get(
    keyOf(app, authorizerAppId, AUTHORIZER_STATUS_KIND),
  );
  if (status?.value === REVOKED) {
    throw new AppError(
      'REVOKED',
      `authorizer ${authorizerAppId} revoked its authorization of "${app.name}"`,
    );
  }
  if (status?.value === undefined) {
    throw new AppError('NOT_FOUND', `"${app.name}" has no authorizer ${authorizerAppId}`);
  }
}

/**
 * Serves an authorizer's access token through the credential manager: 404 for an authorizer
 * this component never had, 410 REVOKED after `unauthorized`.
 */
export async function authorizerAccessToken(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
): Promise<ServedCredential> {
  await assertAuthorizer(deps, app, authorizerAppId);
  const key = keyOf(app, authorizerAppId, AUTHORIZER_TOKEN_KIND);
  return deps.tokens.get(key, authorizerTokenFetcher(deps, app, authorizerAppId));
}
