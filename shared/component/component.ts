import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { AppRecord, Store } from '../store';
import { assertReadable } from '../store/unreadable';
import { appOwner } from '../tokens/app-tokens';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import { getComponentAccessToken } from '../wechat/credentials';
import type { WechatHttp } from '../wechat/http';

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
  const expiresAt = createTime * 1000 + TICKET_TTL_MS;
  return store.credentials.putIfNewer(key, { value: ticket, expiresAt }, now);
}

/** What the stored and forwarded copy of an auth event shows instead of the ticket. */
export const TICKET_REDACTED = '(kept sealed by wxhub)';

/** The ticket is a credential: the message store and forward targets get a placeholder. */
export function redactTicket(fields: Record<string, unknown>): Record<string, unknown> {
  if (fields.ComponentVerifyTicket === undefined) return fields;
  return { ...fields, ComponentVerifyTicket: TICKET_REDACTED };
}

/** The stored ticket if one is still valid at `now`; undefined otherwise. */
export async function currentTicket(
  store: Store,
  app: AppRecord,
  now: number,
): Promise<string | undefined> {
  const row = await store.credentials.get({ owner: appOwner(app), kind: TICKET_KIND });
  if (row?.value === undefined || row.expiresAt === undefined || row.expiresAt <= now) {
    return undefined;
  }
  return row.value;
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
