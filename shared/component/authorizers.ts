import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AppRecord, CredentialKey } from '../store';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import { type ComponentDeps, componentAccessToken, requireComponent } from './component';

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
/** Its status row: `authorized:<sha256 of the last code exchanged>` or `revoked`. */
export const AUTHORIZER_STATUS_KIND = 'authorizer_status';
/** Rows that do not expire (refresh token, status) carry this far-future expiry. */
export const NO_EXPIRY = Date.UTC(9999, 0, 1);
/** How long one delivery holds the exchange lease of an authorizer. */
const EXCHANGE_LEASE_MS = 30_000;
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

interface AuthorizationInfo {
  authorizer_appid?: unknown;
  authorizer_access_token?: unknown;
  expires_in?: unknown;
  authorizer_refresh_token?: unknown;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/**
 * Acts on an `authorized` / `updateauthorized` push (already stored): exchanges its code once,
 * however many deliveries arrive at once (the status row's lease: one holder calls
 * `api_query_auth`, the others leave it to that one), and stores the tokens sealed. Never
 * throws: a failed exchange is logged and retried on WeChat's next delivery.
 */
export async function onAuthorized(
  deps: AuthorizerDeps,
  app: AppRecord,
  fields: Record<string, unknown>,
): Promise<void> {
  const authorizerAppId = text(fields.AuthorizerAppid);
  const code = text(fields.AuthorizationCode);
  if (authorizerAppId === undefined || code === undefined) {
    deps.log.warn({ app: app.name }, 'authorization event without AuthorizerAppid or code');
    return;
  }
  const statusKey = keyOf(app, authorizerAppId, AUTHORIZER_STATUS_KIND);
  const marker = `authorized:${createHash('sha256').update(code).digest('hex')}`;
  const creds = deps.store.credentials;
  const leaseOwner = `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
  try {
    await creds.ensure(statusKey, deps.clock.now());
    if (!(await creds.claimLease(statusKey, leaseOwner, deps.clock.now(), EXCHANGE_LEASE_MS))) {
      return; // another delivery of this push is exchanging the code
    }
  } catch {
    deps.log.warn({ app: app.name, authorizer: authorizerAppId }, 'authorization not taken');
    return;
  }
  try {
    const row = await creds.get(statusKey);
    if (row?.value === marker) {
      await creds.releaseLease(statusKey, leaseOwner);
      return;
    }
    const component = await componentAccessToken(deps, app);
    const r = await callWechatJson<{ authorization_info?: AuthorizationInfo }>(
      deps.wechat,
      QUERY_AUTH_PATH,
      { component_access_token: component.value },
      { method: 'POST', json: { component_appid: app.appId, authorization_code: code } },
    );
    const info = r.authorization_info ?? {};
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
    await creds.saveValue(statusKey, leaseOwner, { value: marker, expiresAt: NO_EXPIRY }, now);
    deps.log.info({ app: app.name, authorizer: authorizerAppId }, 'authorizer authorized');
  } catch (err) {
    await creds.releaseLease(statusKey, leaseOwner).catch(() => false);
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

/** Acts on `unauthorized`: the authorizer is marked revoked and its tokens are cleared. */
export async function onUnauthorized(
  deps: AuthorizerDeps,
  app: AppRecord,
  fields: Record<string, unknown>,
): Promise<void> {
  const authorizerAppId = text(fields.AuthorizerAppid);
  if (authorizerAppId === undefined) {
    throw new AppError('BAD_REQUEST', 'unauthorized event without AuthorizerAppid');
  }
  const now = deps.clock.now();
  const creds = deps.store.credentials;
  const statusKey = keyOf(app, authorizerAppId, AUTHORIZER_STATUS_KIND);
  await creds.ensure(statusKey, now);
  await creds.put(statusKey, { value: REVOKED, expiresAt: NO_EXPIRY }, now);
  for (const kind of [AUTHORIZER_TOKEN_KIND, AUTHORIZER_REFRESH_KIND]) {
    const key = keyOf(app, authorizerAppId, kind);
    await creds.clearValue(key, now);
    deps.tokens.forget(key);
  }
  deps.log.info({ app: app.name, authorizer: authorizerAppId }, 'authorizer revoked');
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
export function authorizerTokenFetcher(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
  authorizerAppId: string,
): Fetcher {
  return async (): Promise<IssuedCredential> => {
    const refreshKey = keyOf(app, authorizerAppId, AUTHORIZER_REFRESH_KIND);
    const refresh = (await deps.store.credentials.get(refreshKey))?.value;
    if (refresh === undefined) throw noRefreshToken(app, authorizerAppId);
    const component = await componentAccessToken(deps, app);
    const r = await requestAuthorizerToken(deps, app, authorizerAppId, refresh, component.value);
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
 * Serves an authorizer's access token through the credential manager: 404 for an authorizer
 * this component never had, 410 REVOKED after `unauthorized`.
 */
export async function authorizerAccessToken(
  deps: AuthorizerDeps,
  app: AppRecord,
  authorizerAppId: string,
): Promise<ServedCredential> {
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
  const key = keyOf(app, authorizerAppId, AUTHORIZER_TOKEN_KIND);
  return deps.tokens.get(key, authorizerTokenFetcher(deps, app, authorizerAppId));
}
