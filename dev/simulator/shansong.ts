import { createHash, randomBytes } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type { SimClock } from './clock';
import type { CallCounters, FaultBook } from './faults';
import { platformFault } from './platform-faults';

/**
 * Shansong (闪送 open platform v5) as the hub sees it, served under `/shansong` (so
 * `SHANSONG_API_BASE=${sim.url}/shansong`): the authorization page (`/auth`, the merchant approves
 * at once and the browser goes to `redirect_uri?code=…&state=…`), the unsigned code → token
 * exchange (a code lives one minute, single use), the signed refresh and the four signed API
 * families. Signatures are checked exactly (uppercase MD5 of the secret and the sorted
 * key+value pairs; the `file` family signs `clientId` and `timestamp` only); a wrong one is
 * refused with {@link SS_SIGN_ERROR}.
 */

/** A refused signature. UNCONFIRMED officially (peers only check `status != 200`). */
export const SS_SIGN_ERROR = { status: 401, msg: '签名错误 sign error', data: null };
export const SS_CODE_TTL_MS = 60_000;
export const SS_TOKEN_SECONDS = 7 * 86_400;

interface Grant {
  clientId: string;
  shopId: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

/** An API call the simulator accepted. */
export interface ShansongCall {
  path: string;
  clientId: string;
  /** The merchant's shop id (developer: the token's; merchants: `shopId` as sent). */
  shopId: string | undefined;
  /** `data` exactly as received. */
  data: string | undefined;
  /** `file`: the uploaded file's name and size. */
  file?: { name: string; size: number };
}

export interface SimShansong {
  registerApp(cfg: { clientId: string; secret: string }): void;
  /** The shop id the next authorization on the page grants (a fresh one otherwise). */
  nextShop(shopId: string): void;
  /** Sends an order-status callback (JSON `body`) to `url`; returns the answer. */
  callback(url: string, body: Record<string, unknown>): Promise<{ status: number; body: string }>;
  calls(): ShansongCall[];
  isTokenValid(token: string): boolean;
  reset(): void;
}

const fail = (status: number, msg: string) => ({ status, msg, data: null });
const ok = (data: unknown) => ({ status: 200, msg: 'OK', data });

/**
 * The platform's sign, written here on its own (not the hub's code): the secret, then each
 * non-empty field but `sign` as key + value in byte order of the keys, MD5, uppercase hex.
 */
export function ssSign(secret: string, fields: Readonly<Record<string, string>>): string {
  const keys = Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== undefined && fields[k] !== '')
    .sort();
  const plain = keys.reduce((acc, k) => acc + k + (fields[k] ?? ''), secret);
  return createHash('md5').update(plain).digest('hex').toUpperCase();
}

/** Creates the Shansong simulator: its routes (mount under `/shansong`) and its control. */
export function createShansongSimulator(
  clock: SimClock,
  books: { faults: FaultBook; counters: CallCounters },
  send: typeof fetch,
): { routes: Hono; control: Hono; api: SimShansong } {
  const apps = new Map<string, string>();
  const codes = new Map<string, { clientId: string; shopId: string; expiresAt: number }>();
  const byAccess = new Map<string, Grant>();
  const byRefresh = new Map<string, Grant>();
  const calls: ShansongCall[] = [];
  const shops: string[] = [];
  const rand = () => randomBytes(16).toString('hex');
  const fault = (path: string, clientId?: string) =>
    platformFault(books, `/shansong${path}`, clientId, (code, msg) => fail(code, msg));

  const grant = (clientId: string, shopId: string, refreshToken = rand()): Grant => {
    const g = {
      clientId,
      shopId,
      accessToken: rand(),
      refreshToken,
      expiresAt: clock.now() + SS_TOKEN_SECONDS * 1000,
    };
    byAccess.set(g.accessToken, g);
    byRefresh.set(g.refreshToken, g);
    return g;
  };
  const tokenData = (g: Grant) => ({
    access_token: g.accessToken,
    refresh_token: g.refreshToken,
    expires_in: SS_TOKEN_SECONDS,
  });
  const form = async (c: Context) => {
    const text = await c.req.text();
    return Object.fromEntries(new URLSearchParams(text));
  };
  /** Known client, ms timestamp, exact sign; undefined when fine, else the refusal. */
  const check = (fields: Record<string, string>, signed: Record<string, string>) => {
    const secret = apps.get(fields.clientId ?? '');
    if (secret === undefined) return fail(400, 'clientId unknown');
    const ts = fields.timestamp ?? '';
    if (!/^\d{13}$/.test(ts) || Math.abs(Number(ts) - clock.now()) > 10 * 60_000) {
      return fail(400, 'timestamp must be epoch milliseconds, within 10 minutes');
    }
    if (fields.sign !== ssSign(secret, signed)) return SS_SIGN_ERROR;
    return undefined;
  };

  const routes = new Hono();
  routes.get('/auth', async (c) => {
    const q = new URL(c.req.url).searchParams;
    const clientId = q.get('client_id') ?? '';
    const f = await fault('/auth', clientId);
    if (f !== undefined) return f;
    const redirect = q.get('redirect_uri');
    if (!apps.has(clientId) || q.get('response_type') !== 'code' || redirect === null) {
      return c.html('<p>invalid authorization request</p>', 400);
    }
    const code = rand();
    const shopId = shops.shift() ?? String(10_000_000 + Math.floor(Math.random() * 89_999_999));
    codes.set(code, { clientId, shopId, expiresAt: clock.now() + SS_CODE_TTL_MS });
    const to = new URL(redirect);
    to.searchParams.set('code', code);
    to.searchParams.set('state', q.get('state') ?? '');
    return c.redirect(to.toString(), 302);
  });

  routes.post('/openapi/oauth/token', async (c) => {
    const fields = await form(c);
    const f = await fault('/openapi/oauth/token', fields.clientId);
    if (f !== undefined) return f;
    // Unsigned: clientId and code only.
    const code = codes.get(fields.code ?? '');
    if (!apps.has(fields.clientId ?? '')) return c.json(fail(400, 'clientId unknown'));
    if (code === undefined || code.clientId !== fields.clientId || code.expiresAt <= clock.now()) {
      return c.json(fail(400, 'code invalid or expired'));
    }
    codes.delete(fields.code ?? '');
    return c.json(ok(tokenData(grant(code.clientId, code.shopId))));
  });

  routes.post('/openapi/oauth/refresh_token', async (c) => {
    const fields = await form(c);
    const f = await fault('/openapi/oauth/refresh_token', fields.clientId);
    if (f !== undefined) return f;
    const refused = check(fields, fields);
    if (refused !== undefined) return c.json(refused);
    let refreshToken: unknown;
    try {
      refreshToken = (JSON.parse(fields.data ?? '') as { refreshToken?: unknown }).refreshToken;
    } catch {
      return c.json(fail(400, 'data is not JSON'));
    }
    const old = typeof refreshToken === 'string' ? byRefresh.get(refreshToken) : undefined;
    if (old === undefined || old.clientId !== fields.clientId) {
      return c.json(fail(400, 'refreshToken invalid'));
    }
    byAccess.delete(old.accessToken);
    // The refresh token is kept (varys and the TS peer keep theirs).
    return c.json(ok(tokenData(grant(old.clientId, old.shopId, old.refreshToken))));
  });

  routes.post('/openapi/:family/v5/:path{.+}', async (c) => {
    const family = c.req.param('family');
    const path = `/openapi/${family}/v5/${c.req.param('path')}`;
    if (family === 'file') {
      const body = await c.req.formData();
      const fields: Record<string, string> = {};
      let file: File | undefined;
      for (const [k, v] of body.entries()) {
        if (typeof v === 'string') fields[k] = v;
        else file = v;
      }
      const f = await fault(path, fields.clientId);
      if (f !== undefined) return f;
      const refused = check(fields, {
        clientId: fields.clientId ?? '',
        timestamp: fields.timestamp ?? '',
      });
      if (refused !== undefined) return c.json(refused);
      if (file === undefined) return c.json(fail(400, 'file part missing'));
      calls.push({
        path,
        clientId: fields.clientId ?? '',
        shopId: undefined,
        data: undefined,
        file: { name: file.name, size: file.size },
      });
      return c.json(ok({ url: `https://sim.invalid/files/${rand()}` }));
    }
    const fields = await form(c);
    const f = await fault(path, fields.clientId);
    if (f !== undefined) return f;
    if (!['developer', 'merchants', 'merchantRegister'].includes(family)) {
      return c.json(fail(404, 'unknown API family'), 404);
    }
    const refused = check(fields, fields);
    if (refused !== undefined) return c.json(refused);
    let shopId = fields.shopId;
    if (family === 'developer') {
      const g = byAccess.get(fields.accessToken ?? '');
      if (g === undefined || g.expiresAt <= clock.now() || g.clientId !== fields.clientId) {
        return c.json(fail(401, 'accessToken invalid'));
      }
      shopId = g.shopId;
    }
    if (family === 'merchants' && shopId === undefined) return c.json(fail(400, 'shopId missing'));
    if (fields.data !== undefined) {
      try {
        JSON.parse(fields.data);
      } catch {
        return c.json(fail(400, 'data is not JSON'));
      }
    }
    calls.push({ path, clientId: fields.clientId ?? '', shopId, data: fields.data });
    return c.json(ok({ path, shopId: shopId ?? null }));
  });

  const api: SimShansong = {
    registerApp(cfg) {
      apps.set(cfg.clientId, cfg.secret);
    },
    nextShop(shopId) {
      shops.push(shopId);
    },
    async callback(url, body) {
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.text() };
    },
    calls: () => calls.slice(),
    isTokenValid: (t) => (byAccess.get(t)?.expiresAt ?? 0) > clock.now(),
    reset() {
      codes.clear();
      byAccess.clear();
      byRefresh.clear();
      calls.length = 0;
      shops.length = 0;
    },
  };
  // Control (`/__sim/shansong/callback`): an order-status callback, for demos and curl.
  const control = new Hono();
  control.post('/callback', async (c) => {
    const b = (await c.req.json()) as { url?: unknown; body?: unknown };
    if (typeof b.url !== 'string' || typeof b.body !== 'object' || b.body === null) {
      return c.json({ error: 'url (string) and body (object) are required' }, 400);
    }
    return c.json(await api.callback(b.url, b.body as Record<string, unknown>));
  });
  return { routes, control, api };
}
