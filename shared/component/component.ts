import type { Clock } from '../clock';
import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord, Store } from '../store';
import { assertReadable } from '../store/unreadable';
import {
  appOwner,
  currentPushedTicket,
  guardedInvalidate,
  keepPushedTicket,
} from '../tokens/app-tokens';
import { COMPONENT_REFRESH_GUARD } from '../tokens/force-guard';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import { describeRefreshError } from '../tokens/policy';
import { getComponentAccessToken } from '../wechat/credentials';
import { callWechatJson, type WechatHttp } from '../wechat/http';

/**
 * Third-party platform (`kind: component`) credentials: the `component_verify_ticket` WeChat
 * pushes every 10 minutes, valid 12 hours
 * (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html),
 * and the `component_access_token` fetched with it.
 */

/** Credential kind of the stored ticket (owner `app:<name>`). */
export const TICKET_KIND = 'component_verify_ticket';
/** Credential kind of the component token (owner `app:<name>`). */
export const COMPONENT_TOKEN_KIND = 'component_access_token';
/** A ticket is accepted by WeChat for 12 hours after its CreateTime. */
export const TICKET_TTL_MS = 12 * 60 * 60 * 1000;
/** The timer refreshes the component token this long before it expires. */
export const COMPONENT_TOKEN_AHEAD_MS = 600_000;

/** 400 unless the app is a third-party platform; 409 when its AppSecret is missing. */
export function requireComponent(app: AppRecord): string {
  if (app.kind !== 'component') {
    throw new AppError(
      'BAD_REQUEST',
      `app "${app.name}" is a ${app.kind} app; /v1/components/{app}/… is for component apps`,
    );
  }
  assertReadable(app, 'apps.app_secret');
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
  }
  return app.appSecret;
}

/**
 * Keeps a pushed ticket when it is newer than the stored one (a conditional write: an older push
 * arriving late never replaces a newer ticket). Returns whether it was written; a push without a
 * ticket or a CreateTime is a bad request.
 */
export async function keepTicket(
  store: Store,
  app: AppRecord,
  fields: Record<string, unknown>,
  now: number,
): Promise<boolean> {
  const ticket = fields.ComponentVerifyTicket;
  const createTime = Number(fields.CreateTime);
  if (typeof ticket !== 'string' || ticket === '' || !Number.isSafeInteger(createTime)) {
    throw new AppError(
      'BAD_REQUEST',
      'component_verify_ticket push without a ticket or CreateTime',
    );
  }
  const key = { owner: appOwner(app), kind: TICKET_KIND };
  return keepPushedTicket(store, key, ticket, createTime, TICKET_TTL_MS, now);
}

/** What the stored and forwarded copy of an auth event shows instead of the ticket. */
export const TICKET_REDACTED = '(kept sealed by wxhub)';

/** What the stored and forwarded copy shows instead of an authorization or pre-auth code. */
export const CODE_REDACTED = '(redacted by wxhub)';

/**
 * Fields of an auth event that are credentials, each with its placeholder: the ticket (kept
 * sealed), the single-use authorization code (exchanged by the hub) and a pre-auth code.
 */
export const AUTH_EVENT_SECRETS: Readonly<Record<string, string>> = {
  ComponentVerifyTicket: TICKET_REDACTED,
  AuthorizationCode: CODE_REDACTED,
  PreAuthCode: CODE_REDACTED,
};

/**
 * An auth event's credentials (ticket, authorization code, pre-auth code): the message store and
 * forward targets get a placeholder instead.
 */
export function redactAuthEvent(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  for (const [name, placeholder] of Object.entries(AUTH_EVENT_SECRETS)) {
    if (fields[name] !== undefined) out = { ...out, [name]: placeholder };
  }
  return out;
}

/** The stored ticket if one is still valid at `now`; undefined otherwise. */
export async function currentTicket(
  store: Store,
  app: AppRecord,
  now: number,
): Promise<string | undefined> {
  return currentPushedTicket(store, { owner: appOwner(app), kind: TICKET_KIND }, now);
}

/** What the component token needs: the store (ticket), WeChat and the clock. */
export interface ComponentDeps {
  store: Store;
  wechat: WechatHttp;
  clock: Clock;
}

/** 409 NO_TICKET: WeChat has pushed no ticket yet, or none in the last 12 hours. */
export function noTicket(app: AppRecord): AppError {
  return new AppError(
    'NO_TICKET',
    `component "${app.name}" has no component_verify_ticket from the last 12 h; WeChat pushes one to /wx/${app.name}/component/event every 10 minutes`,
  );
}

/** Fetches a component token with the stored ticket; 409 NO_TICKET without one. */
export function componentTokenFetcher(deps: ComponentDeps, app: AppRecord): Fetcher {
  return async () => {
    const secret = requireComponent(app);
    const ticket = await currentTicket(deps.store, app, deps.clock.now());
    if (ticket === undefined) throw noTicket(app);
    return getComponentAccessToken(deps.wechat, app.appId, secret, ticket);
  };
}

/** Serves a component's access token through the credential manager (lease, cache, backoff). */
export function componentAccessToken(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
): Promise<ServedCredential> {
  requireComponent(app);
  const key = { owner: appOwner(app), kind: COMPONENT_TOKEN_KIND };
  return deps.tokens.get(key, componentTokenFetcher(deps, app));
}

/** WeChat's errcodes for a token that is not (or no longer) valid. */
const STALE_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/**
 * Runs `call` with the component token; when WeChat says that token is not valid (40001, 40014,
 * 42001: e.g. another system fetched one with the same secret), the token is refreshed by
 * compare-and-refresh (the guard of the invalidate route: at most once per 30 s per component)
 * and `call` runs once more with the new one.
 */
export async function withComponentToken<T>(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
  call: (componentToken: string) => Promise<T>,
): Promise<T> {
  const first = await componentAccessToken(deps, app);
  try {
    return await call(first.value);
  } catch (err) {
    if (!(err instanceof WechatApiError) || !STALE_TOKEN_ERRCODES.has(err.errcode)) throw err;
    const key = { owner: appOwner(app), kind: COMPONENT_TOKEN_KIND };
    const fetcher = componentTokenFetcher(deps, app);
    const fresh = await guardedInvalidate(deps, key, first.value, {
      guard: COMPONENT_REFRESH_GUARD,
      refetch: () => fetcher(undefined),
      current: fetcher,
    });
    if (fresh.token.value === first.value) throw err;
    return call(fresh.token.value);
  }
}

export const START_PUSH_TICKET_PATH = '/cgi-bin/component/api_start_push_ticket';
/** Credential kind (owner `app:<name>`) whose lease spaces `api_start_push_ticket` calls. */
export const PUSH_RESTART_KIND = 'component_push_restart';
/** At most one `api_start_push_ticket` per component this often, across all instances. */
export const PUSH_RESTART_INTERVAL_MS = 10 * 60_000;
/** The restart row never expires (it is never due for refresh). */
const RESTART_ROW_EXPIRY = Date.UTC(9999, 0, 1);

/**
 * When the newest stored ticket is older than 12 h (WeChat stopped pushing): the time it was
 * pushed; undefined when a valid ticket is stored or none ever was.
 */
export async function staleTicketSince(
  store: Store,
  app: AppRecord,
  now: number,
): Promise<number | undefined> {
  const row = await store.credentials.get({ owner: appOwner(app), kind: TICKET_KIND });
  if (row?.expiresAt === undefined || row.expiresAt > now) return undefined;
  return row.expiresAt - TICKET_TTL_MS;
}

/**
 * Asks WeChat to restart ticket pushes (`api_start_push_ticket`), at most once every 10 minutes
 * per component however many instances ask: the restart row's lease is taken for 10 minutes and
 * never released. Returns what happened, for the pass summary; never throws for WeChat's answer.
 */
export async function restartTicketPushes(
  deps: ComponentDeps & { instanceId: string },
  app: AppRecord,
): Promise<string> {
  const secret = requireComponent(app);
  const key = { owner: appOwner(app), kind: PUSH_RESTART_KIND };
  const creds = deps.store.credentials;
  const now = deps.clock.now();
  const row = await creds.get(key);
  if (row === undefined) {
    // Created with an expiry so the refresh pass never selects it.
    await creds.putIfNewer(key, { value: 'none', expiresAt: RESTART_ROW_EXPIRY }, now);
  }
  if (!(await creds.claimLease(key, deps.instanceId, now, PUSH_RESTART_INTERVAL_MS))) {
    const last =
      row?.leaseUntil === undefined ? undefined : row.leaseUntil - PUSH_RESTART_INTERVAL_MS;
    return last === undefined
      ? 'wxhub is asking WeChat to restart pushes with api_start_push_ticket'
      : `wxhub asked WeChat to restart pushes with api_start_push_ticket at ` +
          `${new Date(last).toISOString()} (${row?.value ?? ''}); it asks again at most every 10 minutes`;
  }
  let answer: string;
  try {
    const r = await callWechatJson<{ errmsg?: unknown }>(
      deps.wechat,
      START_PUSH_TICKET_PATH,
      {},
      { method: 'POST', json: { component_appid: app.appId, component_secret: secret } },
    );
    answer = `answered "${typeof r.errmsg === 'string' ? r.errmsg : 'ok'}"`;
  } catch (err) {
    answer = `failed: ${describeRefreshError(err)}`;
  }
  await creds.put(key, { value: answer, expiresAt: RESTART_ROW_EXPIRY }, now);
  return `wxhub asked WeChat to restart pushes with api_start_push_ticket at ${new Date(now).toISOString()} (${answer})`;
}

/** The config-style error of a stale ticket: what is wrong and what to do. */
export function staleTicketMessage(app: AppRecord, since: number, restart: string): string {
  return (
    `configuration: the newest component_verify_ticket of "${app.name}" was pushed at ` +
    `${new Date(since).toISOString()}, over 12 h ago, and WeChat has pushed none since: check ` +
    `that the Open Platform console's auth-event URL is /wx/${app.name}/component/event on this ` +
    `hub and answers "success"; ${restart}`
  );
}
