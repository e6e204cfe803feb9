import { createHash, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { SimClock } from './clock';
import type { CallCounters, FaultBook } from './faults';
import { platformFault } from './platform-faults';

/**
 * Fengniao (ele.me anubis v3) as the hub sees it, served under `/fengniao` (so
 * `FENGNIAO_API_BASE=${sim.url}/fengniao`): the signed token and refresh endpoints, the signed
 * `/v3/invoke/{api}` business calls, merchant authorization (a single-use code, 24 h) pushed to
 * the app's auth callback, and signed callbacks. Every request's signature is checked exactly
 * (SHA-256 over the secret and the sorted `k=v` pairs, `business_data` as the string sent,
 * millisecond timestamps); a wrong one is refused with {@link FN_SIGN_ERROR}.
 */

/** Code of a refused signature. UNCONFIRMED officially (the sandbox answers a non-200 `code`). */
export const FN_SIGN_ERROR = { code: '40009', msg: 'signature error' };
export const FN_CODE_TTL_MS = 24 * 3_600_000;
export const FN_TOKEN_SECONDS = 365 * 86_400;
export const FN_REFRESH_SECONDS = 372 * 86_400;
/** Within this long of a refresh, the same pair is answered again. */
export const FN_REFRESH_WINDOW_MS = 10 * 60_000;

interface Pair {
  appId: string;
  merchantId: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  refreshExpiresAt: number;
  issuedAt: number;
}

/** A business call the simulator accepted. */
export interface FengniaoInvoke {
  api: string;
  appId: string;
  merchantId: string;
  /** `business_data` exactly as received. */
  businessData: string;
}

export interface SimFengniao {
  /** Adds or updates an app (`appId`, `secret`). */
  registerApp(cfg: { appId: string; secret: string }): void;
  /**
   * The merchant approves on the authorization page: a single-use code (24 h), POSTed as JSON
   * `{code, merchant_id, scope, state}` to `url` (the app's auth callback). Returns the answer.
   */
  authorize(
    appId: string,
    merchantId: string,
    url: string,
  ): Promise<{ status: number; body: string; code: string }>;
  /** A code without the push (to post it yourself). */
  issueCode(appId: string, merchantId: string): string;
  /**
   * Sends a signed callback of `businessData` (a JSON text) to `url`; `tamper` alters the body
   * after signing. Returns the answer.
   */
  callback(
    appId: string,
    url: string,
    businessData: string,
    opts?: { tamper?: boolean; timestamp?: number },
  ): Promise<{ status: number; body: string }>;
  /** The business calls accepted, oldest first. */
  invokes(): FengniaoInvoke[];
  /** True while `token` is a live access token. */
  isTokenValid(token: string): boolean;
  reset(): void;
}

/**
 * The platform's signature, written here on its own (not the hub's code), so a bug in the hub's
 * signing shows as a refusal: secret + `k=v` pairs of the non-empty fields but `signature`, keys
 * in byte order, joined with `&`, SHA-256, lowercase hex.
 */
export function fnSign(secret: string, fields: Readonly<Record<string, string>>): string {
  let plain = '';
  for (const k of Object.keys(fields).sort()) {
    const v = fields[k];
    if (k === 'signature' || v === undefined || v === '') continue;
    plain += `${plain === '' ? '' : '&'}${k}=${v}`;
  }
  return createHash('sha256').update(`${secret}${plain}`).digest('hex');
}

const error = (code: number | string, msg: string) => ({
  code: String(code),
  msg,
  business_data: '',
});
const ok = (data: unknown) => ({
  code: '200',
  msg: 'success',
  sign: '',
  business_data: JSON.stringify(data),
});

/** Creates the Fengniao simulator: its routes (mount under `/fengniao`) and its control. */
export function createFengniaoSimulator(
  clock: SimClock,
  books: { faults: FaultBook; counters: CallCounters },
  send: typeof fetch,
): { routes: Hono; control: Hono; api: SimFengniao } {
  const apps = new Map<string, string>();
  const codes = new Map<string, { appId: string; merchantId: string; expiresAt: number }>();
  const byAccess = new Map<string, Pair>();
  const byRefresh = new Map<string, Pair>();
  const invokes: FengniaoInvoke[] = [];
  const token = () => randomBytes(16).toString('hex');

  const issue = (appId: string, merchantId: string): Pair => {
    const now = clock.now();
    const pair = {
      appId,
      merchantId,
      accessToken: token(),
      refreshToken: token(),
      expiresAt: now + FN_TOKEN_SECONDS * 1000,
      refreshExpiresAt: now + FN_REFRESH_SECONDS * 1000,
      issuedAt: now,
    };
    byAccess.set(pair.accessToken, pair);
    byRefresh.set(pair.refreshToken, pair);
    return pair;
  };
  const tokenData = (p: Pair) => ({
    app_id: p.appId,
    merchant_id: p.merchantId,
    access_token: p.accessToken,
    refresh_token: p.refreshToken,
    // Strings, as varys's struct reads them.
    expire_in: String(Math.floor((p.expiresAt - clock.now()) / 1000)),
    re_expire_in: String(Math.floor((p.refreshExpiresAt - clock.now()) / 1000)),
  });

  /** The body's fields, or an error answer: JSON, known app, ms timestamp, exact signature. */
  const signedBody = async (
    body: string,
  ): Promise<{ fields: Record<string, string> } | { refused: unknown }> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { refused: error(40000, 'body is not JSON') };
    }
    if (typeof parsed !== 'object' || parsed === null)
      return { refused: error(40000, 'not an object') };
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string' && typeof v !== 'number') {
        return { refused: error(40000, `${k} must be a string`) };
      }
      fields[k] = String(v);
    }
    const secret = apps.get(fields.app_id ?? '');
    if (secret === undefined) return { refused: error(40004, 'app_id unknown') };
    const ts = fields.timestamp ?? '';
    if (!/^\d{13}$/.test(ts) || Math.abs(Number(ts) - clock.now()) > 10 * 60_000) {
      return { refused: error(40005, 'timestamp must be epoch milliseconds, within 10 minutes') };
    }
    if (fields.signature !== fnSign(secret, fields)) return { refused: FN_SIGN_ERROR };
    return { fields };
  };

  const routes = new Hono();
  const fault = (path: string, appId?: string) =>
    platformFault(books, `/fengniao${path}`, appId, (code, msg) => error(code, msg));
  const appIdOf = (body: string) => {
    try {
      const v = (JSON.parse(body) as { app_id?: unknown }).app_id;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  };

  routes.post('/openapi/token', async (c) => {
    const body = await c.req.text();
    const f = await fault('/openapi/token', appIdOf(body));
    if (f !== undefined) return f;
    const r = await signedBody(body);
    if ('refused' in r) return c.json(r.refused);
    const { fields } = r;
    if (fields.grant_type !== 'authorization_code') return c.json(error(40000, 'grant_type'));
    const code = codes.get(fields.code ?? '');
    if (
      code === undefined ||
      code.appId !== fields.app_id ||
      code.merchantId !== fields.merchant_id ||
      code.expiresAt <= clock.now()
    ) {
      return c.json(error(40010, 'code invalid or used'));
    }
    codes.delete(fields.code ?? '');
    return c.json(ok(tokenData(issue(code.appId, code.merchantId))));
  });

  routes.post('/openapi/refreshToken', async (c) => {
    const body = await c.req.text();
    const f = await fault('/openapi/refreshToken', appIdOf(body));
    if (f !== undefined) return f;
    const r = await signedBody(body);
    if ('refused' in r) return c.json(r.refused);
    const { fields } = r;
    const old = byRefresh.get(fields.refresh_token ?? '');
    if (
      fields.grant_type !== 'refresh_token' ||
      old === undefined ||
      old.appId !== fields.app_id ||
      old.merchantId !== fields.merchant_id ||
      old.refreshExpiresAt <= clock.now()
    ) {
      return c.json(error(40011, 'refresh_token invalid'));
    }
    // Idempotent within the window: the pair issued last is answered again.
    if (clock.now() - old.issuedAt < FN_REFRESH_WINDOW_MS) return c.json(ok(tokenData(old)));
    byRefresh.delete(old.refreshToken);
    return c.json(ok(tokenData(issue(old.appId, old.merchantId))));
  });

  routes.post('/v3/invoke/:api', async (c) => {
    const api = c.req.param('api');
    const body = await c.req.text();
    const f = await fault(`/v3/invoke/${api}`, appIdOf(body));
    if (f !== undefined) return f;
    const r = await signedBody(body);
    if ('refused' in r) return c.json(r.refused);
    const { fields } = r;
    const pair = byAccess.get(fields.access_token ?? '');
    if (
      pair === undefined ||
      pair.expiresAt <= clock.now() ||
      pair.appId !== fields.app_id ||
      pair.merchantId !== fields.merchant_id
    ) {
      return c.json(error(40012, 'access_token invalid'));
    }
    if (fields.version !== '1.0') return c.json(error(40000, 'version must be 1.0'));
    let data: unknown;
    try {
      data = JSON.parse(fields.business_data ?? '');
    } catch {
      return c.json(error(40000, 'business_data is not JSON'));
    }
    invokes.push({
      api,
      appId: pair.appId,
      merchantId: pair.merchantId,
      businessData: fields.business_data ?? '',
    });
    return c.json(ok({ api, received: data }));
  });

  const post = async (url: string, body: string) => {
    const res = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, body: await res.text() };
  };

  const api: SimFengniao = {
    registerApp(cfg) {
      apps.set(cfg.appId, cfg.secret);
    },
    issueCode(appId, merchantId) {
      if (!apps.has(appId)) throw new Error(`unknown Fengniao app ${appId}`);
      const code = token();
      codes.set(code, { appId, merchantId, expiresAt: clock.now() + FN_CODE_TTL_MS });
      return code;
    },
    async authorize(appId, merchantId, url) {
      const code = api.issueCode(appId, merchantId);
      const body = JSON.stringify({ code, merchant_id: merchantId, scope: 'all', state: '' });
      return { ...(await post(url, body)), code };
    },
    async callback(appId, url, businessData, opts = {}) {
      const secret = apps.get(appId);
      if (secret === undefined) throw new Error(`unknown Fengniao app ${appId}`);
      const fields = {
        app_id: appId,
        timestamp: String(opts.timestamp ?? clock.now()),
        business_data: businessData,
      };
      const signature = fnSign(secret, fields);
      const sent = { ...fields, signature };
      if (opts.tamper === true)
        sent.business_data = businessData.replace(/\d/, (d) => String((Number(d) + 1) % 10));
      return post(url, JSON.stringify(sent));
    },
    invokes: () => invokes.slice(),
    isTokenValid: (t) => (byAccess.get(t)?.expiresAt ?? 0) > clock.now(),
    reset() {
      codes.clear();
      byAccess.clear();
      byRefresh.clear();
      invokes.length = 0;
    },
  };
  // Control (`/__sim/fengniao/…`): what the merchant and the platform do, for demos and curl.
  const control = new Hono();
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  control.post('/authorize', async (c) => {
    const b = (await c.req.json()) as Record<string, unknown>;
    try {
      return c.json(await api.authorize(str(b.appId), str(b.merchantId), str(b.url)));
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : 'failed' }, 400);
    }
  });
  control.post('/callback', async (c) => {
    const b = (await c.req.json()) as Record<string, unknown>;
    const data =
      typeof b.businessData === 'string' ? b.businessData : JSON.stringify(b.businessData);
    try {
      return c.json(
        await api.callback(str(b.appId), str(b.url), data, { tamper: b.tamper === true }),
      );
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : 'failed' }, 400);
    }
  });
  return { routes, control, api };
}
