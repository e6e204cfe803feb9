import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AppRecord, AuthorizerRecord, AuthorizerStatus, AuthorizersRepo } from '../store';
import type { TokenManager } from '../tokens/manager';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import {
  type ComponentDeps,
  componentAccessToken,
  requireComponent,
  withComponentToken,
} from './component';

/**
 * The authorizer directory: who authorized a third-party platform, with what, and whether they
 * still do (table `authorizers`; never a token). Filled by the authorization events, by
 * `api_get_authorizer_list`
 * (https://developers.weixin.qq.com/doc/oplatform/openApi/authorization-management/api_getauthorizerlist:
 * `offset`, `count` ≤ 500, items `{authorizer_appid, refresh_token, auth_time}`) and by
 * `api_get_authorizer_info`
 * (https://developers.weixin.qq.com/doc/oplatform/openApi/authorization-management/api_getauthorizerinfo).
 */

export const AUTHORIZER_LIST_PATH = '/cgi-bin/component/api_get_authorizer_list';
export const AUTHORIZER_INFO_PATH = '/cgi-bin/component/api_get_authorizer_info';
/** WeChat's most items per `api_get_authorizer_list` call. */
export const AUTHORIZER_LIST_PAGE = 500;
/** Default and largest page of `GET /v1/components/{app}/authorizers`. */
export const DIRECTORY_LIMIT_DEFAULT = 100;
export const DIRECTORY_LIMIT_MAX = 500;

/** What the directory needs: component deps, the credential manager and a log. */
export type DirectoryDeps = ComponentDeps & { tokens: TokenManager; log: Logger };

/** One item of `api_get_authorizer_list`; `refreshToken` absent when WeChat left it out. */
export interface ListedAuthorizer {
  appId: string;
  refreshToken: string | undefined;
  /** Epoch ms (WeChat's `auth_time` is in seconds); undefined when missing. */
  authTime: number | undefined;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** The permission-set ids of a `func_info` array (`[{funcscope_category: {id}}]`). */
export function funcInfoIds(funcInfo: unknown): number[] | undefined {
  if (!Array.isArray(funcInfo)) return undefined;
  const ids: number[] = [];
  for (const f of funcInfo) {
    const id = (f as { funcscope_category?: { id?: unknown } } | null)?.funcscope_category?.id;
    if (typeof id === 'number' && Number.isInteger(id)) ids.push(id);
  }
  return ids;
}

/**
 * Records a successful authorization exchange in the directory: the permission sets from
 * `api_query_auth`'s `authorization_info.func_info`, the names from `api_get_authorizer_info`
 * (best-effort: a failure there is logged and leaves them out). Never throws: the authorization
 * itself already succeeded.
 */
export async function recordAuthorized(
  deps: DirectoryDeps,
  app: AppRecord,
  authorizerAppId: string,
  info: { func_info?: unknown },
): Promise<void> {
  let names: { nickName?: string; userName?: string } = {};
  try {
    const r = await withComponentToken(deps, app, (componentToken) =>
      callWechatJson<{
        authorizer_info?: { nick_name?: unknown; user_name?: unknown };
      }>(
        deps.wechat,
        AUTHORIZER_INFO_PATH,
        { component_access_token: componentToken },
        { method: 'POST', json: { component_appid: app.appId, authorizer_appid: authorizerAppId } },
      ),
    );
    const nickName = text(r.authorizer_info?.nick_name)?.slice(0, 191);
    const userName = text(r.authorizer_info?.user_name)?.slice(0, 64);
    names = {
      ...(nickName === undefined ? {} : { nickName }),
      ...(userName === undefined ? {} : { userName }),
    };
  } catch (err) {
    deps.log.warn(
      { app: app.name, authorizer: authorizerAppId, error: describe(err) },
      'api_get_authorizer_info failed; the directory keeps the authorizer without its names',
    );
  }
  try {
    const now = deps.clock.now();
    await deps.store.authorizers.markAuthorized(
      app.name,
      authorizerAppId,
      { authorizedAt: now, funcInfo: funcInfoIds(info.func_info), ...names },
      now,
    );
  } catch (err) {
    deps.log.warn(
      { app: app.name, authorizer: authorizerAppId, error: describe(err) },
      'the authorizer directory could not record the authorization',
    );
  }
}

/** Records a revocation in the directory (throws when it cannot be stored). */
export async function recordRevoked(
  deps: ComponentDeps,
  app: AppRecord,
  authorizerAppId: string,
): Promise<void> {
  await deps.store.authorizers.markRevoked(app.name, authorizerAppId, deps.clock.now());
}

/**
 * The pages of `api_get_authorizer_list`, one call per page of {@link AUTHORIZER_LIST_PAGE},
 * until WeChat's `total_count` is reached or a page comes back empty; only one page is held at
 * a time. A WeChat error or transport failure is thrown as it is.
 */
export async function* authorizerListPages(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
): AsyncGenerator<{ total: number; items: ListedAuthorizer[] }> {
  let offset = 0;
  for (;;) {
    const component = await componentAccessToken(deps, app);
    const call = () =>
      callWechatJson<{ total_count?: unknown; list?: unknown }>(
        deps.wechat,
        AUTHORIZER_LIST_PATH,
        { component_access_token: component.value },
        {
          method: 'POST',
          json: { component_appid: app.appId, offset, count: AUTHORIZER_LIST_PAGE },
        },
      );
    // A read: after a long page, a kept-alive connection may have been closed; one retry.
    const r = await call().catch((err: unknown) => {
      if (err instanceof WechatTransportError && err.failure === 'unreachable') return call();
      throw err;
    });
    const total = typeof r.total_count === 'number' ? r.total_count : 0;
    const raw = Array.isArray(r.list) ? r.list : [];
    const items: ListedAuthorizer[] = [];
    for (const entry of raw) {
      const e = (entry ?? {}) as {
        authorizer_appid?: unknown;
        refresh_token?: unknown;
        auth_time?: unknown;
      };
      const appId = text(e.authorizer_appid);
      if (appId === undefined) continue;
      items.push({
        appId,
        refreshToken: text(e.refresh_token),
        authTime: typeof e.auth_time === 'number' ? e.auth_time * 1000 : undefined,
      });
    }
    yield { total, items };
    offset += raw.length;
    if (raw.length === 0 || offset >= total) return;
  }
}

/** The `api_get_authorizer_list` item of one authorizer, paging until found; undefined if absent. */
export async function findListedAuthorizer(
  deps: ComponentDeps & { tokens: TokenManager },
  app: AppRecord,
  authorizerAppId: string,
): Promise<ListedAuthorizer | undefined> {
  for await (const page of authorizerListPages(deps, app)) {
    const found = page.items.find((i) => i.appId === authorizerAppId);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The answer shape of one directory entry (never a token). */
export function authorizerView(a: AuthorizerRecord) {
  return {
    appId: a.appId,
    ...(a.nickName === undefined ? {} : { nickName: a.nickName }),
    ...(a.userName === undefined ? {} : { userName: a.userName }),
    status: a.status,
    funcInfo: a.funcInfo,
    authorizedAt: new Date(a.authorizedAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
    ...(a.revokedAt === undefined ? {} : { revokedAt: new Date(a.revokedAt).toISOString() }),
  };
}

/**
 * `status`, `offset` and `limit` of the list route, checked (400 on a bad value); an empty one
 * (`?status=&offset=&limit=`, as the contract writes the route) counts as not given.
 */
export function listQuery(given: {
  status: string | undefined;
  offset: string | undefined;
  limit: string | undefined;
}): { status: AuthorizerStatus | undefined; offset: number; limit: number } {
  const set = (v: string | undefined) => (v === '' ? undefined : v);
  const q = { status: set(given.status), offset: set(given.offset), limit: set(given.limit) };
  if (q.status !== undefined && q.status !== 'authorized' && q.status !== 'revoked') {
    throw new AppError('BAD_REQUEST', 'status must be authorized or revoked');
  }
  const whole = (v: string | undefined, name: string, min: number, max: number, dflt: number) => {
    if (v === undefined) return dflt;
    const n = /^\d{1,9}$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= min && n <= max)) {
      throw new AppError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
  return {
    status: q.status,
    offset: whole(q.offset, 'offset', 0, 100_000_000, 0),
    limit: whole(q.limit, 'limit', 1, DIRECTORY_LIMIT_MAX, DIRECTORY_LIMIT_DEFAULT),
  };
}

/**
 * One page of a component's directory, from `from` (the primary's repository unless the caller
 * passes another, e.g. the console its lagging reader).
 */
export async function listAuthorizers(
  deps: ComponentDeps,
  app: AppRecord,
  q: { status: AuthorizerStatus | undefined; offset: number; limit: number },
  from: Pick<AuthorizersRepo, 'list'> = deps.store.authorizers,
) {
  requireComponent(app);
  const page = await from.list(app.name, q);
  return { authorizers: page.authorizers.map(authorizerView), total: page.total };
}

/** One directory entry; 404 for an appid this component never had. */
export async function getAuthorizer(deps: ComponentDeps, app: AppRecord, authorizerAppId: string) {
  requireComponent(app);
  const a = await deps.store.authorizers.get(app.name, authorizerAppId);
  if (a === undefined) {
    throw new AppError('NOT_FOUND', `"${app.name}" has no authorizer ${authorizerAppId}`);
  }
  return authorizerView(a);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : 'failed';
}
