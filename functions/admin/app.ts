import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createApiKey, forgetApiKeys } from '../../shared/admin/api-keys';
import {
  type ActiveSession,
  activeSession,
  csrfMatches,
  login,
  logout,
} from '../../shared/admin/sessions';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { requestText } from '../../shared/http/body';
import { AppError } from '../../shared/http/errors';
import { clientIp, requestHeader } from '../../shared/http/headers';
import type { Deps } from '../../shared/platform/deps';
import type { AdminActor, AdminEnv, AdminGuard, AuditEntry } from './types';

/** The console's session cookie (HttpOnly, SameSite=Strict, Path=/admin, Secure over https). */
export const SESSION_COOKIE = 'wxhub_session';
const COOKIE_PATH = '/admin';
const API = '/admin/api';

/** The session layer's own routes see the session too (for `me` and logout). */
type SessionEnv = { Variables: AdminEnv['Variables'] & { session: ActiveSession } };

/**
 * What the console's other parts mount behind the session layer: the data routes (`/admin/api/…`,
 * built with the {@link AdminGuard} that audits their writes) and the pages (`/admin/…`).
 */
export interface AdminExtra {
  api?: (guard: AdminGuard) => Hono<AdminEnv>;
  pages?: Hono<HubEnv>;
}

/** `scheme://host` of the request as the browser addressed it (`x-forwarded-proto`, `host`). */
function ownOrigin(c: Context): string {
  const url = new URL(c.req.url);
  const forwarded = requestHeader(c, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme =
    forwarded === 'https' || forwarded === 'http' ? forwarded : url.protocol.slice(0, -1);
  const host = requestHeader(c, 'host') ?? url.host;
  return `${scheme}://${host}`;
}

const isHttps = (c: Context) => ownOrigin(c).startsWith('https://');

/** Whether the `Origin` header is this request's own origin. */
function originOk(c: Context): boolean {
  return requestHeader(c, 'origin') === ownOrigin(c);
}

/**
 * Whether a login comes from the console's own page: `Origin` is this host, or (a browser that
 * sent no `Origin`) `Sec-Fetch-Site: same-origin`. A request with neither is refused: a login
 * is a write, and one forged from elsewhere would sign the victim in to the attacker's account.
 */
function sameOriginLogin(c: Context): boolean {
  if (requestHeader(c, 'origin') !== undefined) return originOk(c);
  return requestHeader(c, 'sec-fetch-site')?.trim().toLowerCase() === 'same-origin';
}

/**
 * Whether a write's body (if any) is declared JSON. A page elsewhere can send a form or
 * `text/plain` body without a CORS preflight, never `application/json`; a write without a body
 * (no `content-type`, no length) passes.
 */
function jsonOrNoBody(c: Context): boolean {
  const type = requestHeader(c, 'content-type');
  if (type === undefined) {
    const length = requestHeader(c, 'content-length');
    const chunked = requestHeader(c, 'transfer-encoding') !== undefined;
    return !chunked && (length === undefined || length.trim() === '0');
  }
  return /^application\/json\s*(;|$)/i.test(type.trim());
}

/** The JSON object body of a console request, or 400. */
export async function adminBody(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(await requestText(c));
  } catch {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

/** What the guard reads of {@link Deps} (all at request time: building routes touches nothing). */
type GuardDeps = Pick<Deps, 'config' | 'store' | 'clock' | 'log'>;

/** Records `entry` for `actor`, now, from the client's IP. */
async function record(
  deps: GuardDeps,
  c: Context,
  actor: AdminActor | null,
  entry: AuditEntry,
): Promise<void> {
  await deps.store.admin.addAudit({
    at: deps.clock.now(),
    actor,
    action: entry.action,
    target: entry.target,
    ip: clientIp(c),
    detail: entry.detail,
  });
}

/** The {@link AdminGuard} of the data routes: audits a write for the signed-in admin. */
export function createAdminGuard(deps: GuardDeps): AdminGuard {
  return { audit: (c, entry) => record(deps, c, c.get('admin'), entry) };
}

/**
 * Guards `/admin/api/*`: a write with a body must declare it `application/json` (415
 * `UNSUPPORTED_MEDIA_TYPE`), login included. Except `POST /admin/api/login`, a live session from
 * the `wxhub_session` cookie sets `admin` (401 `UNAUTHORIZED` otherwise); a write also needs
 * header `x-csrf-token` equal to the session's CSRF token and an `Origin` equal to the request's
 * own origin (403 `CSRF` otherwise).
 */
export function adminSessionGuard(deps: GuardDeps): MiddlewareHandler<SessionEnv> {
  return async (c, next) => {
    const write = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    if (write && !jsonOrNoBody(c))
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'send the body as content-type: application/json',
      );
    if (c.req.method === 'POST' && c.req.path === `${API}/login`) return next();
    const token = getCookie(c, SESSION_COOKIE);
    const session = token === undefined ? undefined : await activeSession(deps, token);
    if (session === undefined) throw new AppError('UNAUTHORIZED', 'sign in to the console');
    if (write && !(csrfMatches(session, requestHeader(c, 'x-csrf-token')) && originOk(c)))
      throw new AppError('CSRF', 'missing or wrong x-csrf-token or Origin');
    c.set('admin', session.actor);
    c.set('session', session);
    return next();
  };
}

const KEY_NAME = /^[\p{L}\p{N} ._:@()-]{1,64}$/u;
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The session layer: login, logout, me, API keys, audit (docs/api.md, "Admin console"). */
function sessionRoutes(deps: GuardDeps): Hono<SessionEnv> {
  const r = new Hono<SessionEnv>();

  r.post(`${API}/login`, async (c) => {
    if (!sameOriginLogin(c)) {
      throw new AppError(
        'CSRF',
        'sign in from the console: Origin or Sec-Fetch-Site missing or foreign',
      );
    }
    const body = await adminBody(c);
    const { user, password } = body;
    if (typeof user !== 'string' || typeof password !== 'string' || user === '')
      throw new AppError('BAD_REQUEST', 'body must be {"user": string, "password": string}');
    const ip = clientIp(c);
    const s = await login(deps, user, password, ip);
    setCookie(c, SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: COOKIE_PATH,
      secure: isHttps(c),
      maxAge: deps.config.adminSessionMaxSeconds,
    });
    await record(deps, c, s.actor, { action: 'login' });
    return c.body(null, 204);
  });

  r.post(`${API}/logout`, async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token !== undefined) await logout(deps, token);
    deleteCookie(c, SESSION_COOKIE, {
      path: COOKIE_PATH,
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
    });
    await record(deps, c, c.get('admin'), { action: 'logout' });
    return c.body(null, 204);
  });

  r.get(`${API}/me`, (c) => {
    const s = c.get('session');
    return c.json({ user: s.actor, csrfToken: s.csrfToken, expiresAt: iso(s.expiresAt) });
  });

  r.get(`${API}/keys`, async (c) => {
    const keys = await deps.store.admin.listApiKeys();
    return c.json({
      keys: keys.map((k) => ({
        id: k.id,
        name: k.name,
        // Keys made before prefixes were cut to the last 4 characters show none of theirs.
        prefix: k.prefix.startsWith('wxk_...') ? k.prefix : 'wxk_...',
        createdBy: k.createdBy,
        createdAt: iso(k.createdAt),
        lastUsedAt: iso(k.lastUsedAt),
        revokedAt: iso(k.revokedAt),
      })),
    });
  });

  r.post(`${API}/keys`, async (c) => {
    const { name } = await adminBody(c);
    if (typeof name !== 'string' || !KEY_NAME.test(name))
      throw new AppError('BAD_REQUEST', 'name must be 1 to 64 letters, digits, spaces or ._:@()-');
    const actor = c.get('admin');
    const made = await createApiKey(deps.store.admin, name, actor.name, deps.clock.now());
    await record(deps, c, c.get('admin'), {
      action: 'keys.create',
      target: `key:${made.id}`,
      detail: { name, prefix: made.prefix },
    });
    return c.json({ id: made.id, name: made.name, key: made.key }, 201);
  });

  r.delete(`${API}/keys/:id`, async (c) => {
    const id = c.req.param('id');
    if (!/^\d{1,10}$/.test(id)) throw new AppError('NOT_FOUND', 'no such key');
    if (!(await deps.store.admin.revokeApiKey(Number(id), deps.clock.now())))
      throw new AppError('NOT_FOUND', 'no such key');
    forgetApiKeys(deps.store.admin);
    await record(deps, c, c.get('admin'), { action: 'keys.revoke', target: `key:${id}` });
    return c.body(null, 204);
  });

  r.get(`${API}/audit`, async (c) => {
    const raw = c.req.query('limit') ?? '100';
    if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000)
      throw new AppError('BAD_REQUEST', 'limit must be between 1 and 1000');
    const entries = await deps.store.reader.admin.listAudit(Number(raw));
    return c.json({
      entries: entries.map((e) => ({
        id: e.id,
        at: iso(e.at),
        actor: e.actor,
        action: e.action,
        target: e.target,
        ip: e.ip,
        detail: e.detail,
      })),
    });
  });
  return r;
}

/**
 * Routes of the admin function: the console's session layer under `/admin/api/`, every route
 * there (its own and `extra.api`'s) behind {@link adminSessionGuard}, and `extra.pages`.
 * Building them reads nothing of `deps` (every read happens per request).
 */
export function createRoutes(deps: Deps, extra: AdminExtra = {}): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  const api = new Hono<SessionEnv>();
  api.use(`${API}/*`, adminSessionGuard(deps));
  api.route('/', sessionRoutes(deps));
  if (extra.api !== undefined) api.route('/', extra.api(createAdminGuard(deps)));
  r.route('/', api);
  if (extra.pages !== undefined) r.route('/', extra.pages);
  return r;
}

/** The admin function as a standalone app. */
export function createApp(deps: Deps, extra: AdminExtra = {}): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps, extra));
  return app;
}
