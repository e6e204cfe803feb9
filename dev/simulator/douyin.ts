import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { SimClock } from './clock';
import type { CallCounters, FaultBook } from './faults';
import { waitFaultDelay } from './faults';
import { newLoginCode, randomAlnum } from './ids';
import type { SimAppConfig } from './state';

/**
 * Douyin (Toutiao) mini-program server APIs, served under `/douyin` (point `DOUYIN_API_BASE` at
 * `${sim.url}/douyin`). Rules enforced as Douyin documents them
 * (https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/interface-request-credential/non-user-authorization/get-access-token):
 * answers in `{"err_no","err_tips","data"}` with HTTP 200 for errors too; a new token cuts the
 * previous one's life to 5 minutes and only the newest two tokens of an app are valid; login
 * codes are single-use. Apps are the simulator's registered apps (appId + secret).
 */
export const DOUYIN_PREFIX = '/douyin';

const TOKEN_TTL_MS = 7200 * 1000;
/** A new token leaves the previous one this long. */
export const DOUYIN_OVERLAP_MS = 5 * 60 * 1000;
const CODE_TTL_MS = 5 * 60 * 1000;

interface DouyinToken {
  appId: string;
  expiresAt: number;
}

interface DouyinCode {
  appId: string;
  openid: string;
  unionid?: string;
  used: boolean;
  expiresAt: number;
}

/** A call to a token-checked API (`share_config`), as the simulator received it. */
export interface DouyinShareConfigCall {
  appId: string;
  uniqId: string;
  type: number;
}

/** Douyin's state in the simulator: tokens, login codes and calls made with tokens. */
export class DouyinSim {
  private readonly tokens = new Map<string, DouyinToken>();
  /** Tokens of each app, oldest first. */
  private readonly byApp = new Map<string, string[]>();
  private readonly codes = new Map<string, DouyinCode>();
  readonly shareConfigCalls: DouyinShareConfigCall[] = [];

  constructor(private readonly clock: SimClock) {}

  /** Issues a new token: the previous one keeps at most 5 minutes, older ones die now. */
  issueToken(appId: string): { token: string; expiresIn: number } {
    const now = this.clock.now();
    const list = this.byApp.get(appId) ?? [];
    list.forEach((t, i) => {
      const record = this.tokens.get(t);
      if (record === undefined) return;
      const newest = i === list.length - 1;
      record.expiresAt = newest ? Math.min(record.expiresAt, now + DOUYIN_OVERLAP_MS) : now;
    });
    const token = `0801121${randomBytes(48).toString('hex')}`;
    this.tokens.set(token, { appId, expiresAt: now + TOKEN_TTL_MS });
    this.byApp.set(appId, [...list.slice(-1), token]);
    return { token, expiresIn: TOKEN_TTL_MS / 1000 };
  }

  /** The app a token works for now, or undefined (unknown, expired or replaced). */
  tokenOwner(token: string): string | undefined {
    const record = this.tokens.get(token);
    return record !== undefined && this.clock.now() < record.expiresAt ? record.appId : undefined;
  }

  /** True when `token` works now. */
  isTokenValid(token: string): boolean {
    return this.tokenOwner(token) !== undefined;
  }

  /** Kills a token at once (its app's calls then answer 11016). */
  killToken(token: string): boolean {
    const record = this.tokens.get(token);
    if (record === undefined) return false;
    record.expiresAt = this.clock.now();
    return true;
  }

  /** A single-use `tt.login` code for `appId`, valid 5 minutes. */
  issueLoginCode(appId: string, openid: string, unionid?: string): string {
    const code = newLoginCode();
    this.codes.set(code, {
      appId,
      openid,
      ...(unionid === undefined ? {} : { unionid }),
      used: false,
      expiresAt: this.clock.now() + CODE_TTL_MS,
    });
    return code;
  }

  /** Redeems a code: the session, or undefined (unknown, another app's, used or expired). */
  redeem(appId: string, code: string): DouyinCode | undefined {
    const record = this.codes.get(code);
    if (record === undefined || record.appId !== appId || record.used) return undefined;
    if (this.clock.now() >= record.expiresAt) return undefined;
    record.used = true;
    return record;
  }

  reset(): void {
    this.tokens.clear();
    this.byApp.clear();
    this.codes.clear();
    this.shareConfigCalls.length = 0;
  }
}

interface DouyinSimParts {
  apps: Map<string, SimAppConfig>;
  faults: FaultBook;
  counters: CallCounters;
}

type Json = Record<string, unknown>;
const ok = (data: unknown) => ({ err_no: 0, err_tips: 'success', data });
const fail = (errNo: number, tips: string, data: unknown = {}) => ({
  err_no: errNo,
  err_tips: tips,
  data,
});
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** Checks appid + secret as the v2 APIs do: 40015 bad appid, 40017 bad secret. */
function checkApp(parts: DouyinSimParts, body: Json): Json | string {
  const appId = str(body.appid);
  const secret = str(body.secret);
  if (appId === undefined || secret === undefined) return fail(40014, 'bad params');
  const app = parts.apps.get(appId);
  if (app === undefined) return fail(40015, 'bad appid');
  if (app.secret !== secret) return fail(40017, 'bad secret');
  return appId;
}

type Handler = (body: Json) => Json;

function handlers(sim: DouyinSim, parts: DouyinSimParts): Record<string, Handler> {
  return {
    '/api/apps/v2/token': (body) => {
      const app = checkApp(parts, body);
      if (typeof app !== 'string') return { ...app, data: { access_token: '', expires_in: 0 } };
      if (body.grant_type !== 'client_credential') {
        return fail(40020, 'bad grant_type', { access_token: '', expires_in: 0 });
      }
      const { token, expiresIn } = sim.issueToken(app);
      return ok({ access_token: token, expires_in: expiresIn });
    },
    '/api/apps/v2/jscode2session': (body) => {
      const app = checkApp(parts, body);
      if (typeof app !== 'string') return app;
      const code = str(body.code);
      if (code === undefined) return fail(40014, 'bad params');
      const session = sim.redeem(app, code);
      if (session === undefined) return fail(40018, 'bad code');
      return ok({
        session_key: randomBytes(16).toString('base64'),
        openid: session.openid,
        anonymous_openid: '',
        unionid: session.unionid ?? '',
      });
    },
    // A token-checked API (https://douyin.apifox.cn/api-130700197): the token in the body.
    '/api/apps/share_config': (body) => {
      const token = str(body.access_token);
      if (token === undefined) return fail(10011, '传入 accessToken 为空');
      const owner = sim.tokenOwner(token);
      if (owner === undefined || owner !== str(body.appid)) {
        return fail(11016, 'accessToken 校验不通过');
      }
      sim.shareConfigCalls.push({
        appId: owner,
        uniqId: String(body.uniq_id ?? ''),
        type: Number(body.type ?? 0),
      });
      return ok('success');
    },
  };
}

/**
 * Mounts Douyin's endpoints under {@link DOUYIN_PREFIX} (POST, JSON bodies), counted and open to
 * fault injection by their full path (`/douyin/api/apps/v2/token`): `errcode` answers Douyin's
 * envelope with that `err_no`, `status` an HTTP error page, `delayMs` a late answer. Also
 * `POST /__sim/douyin/login-codes` `{appId, openid, unionid?}` → `{code}` for demos.
 */
export function mountDouyinSimulator(
  app: Hono,
  sim: DouyinSim,
  apps: Map<string, SimAppConfig>,
  faults: FaultBook,
  counters: CallCounters,
): void {
  const parts: DouyinSimParts = { apps, faults, counters };
  const routes = handlers(sim, parts);
  app.post('/__sim/douyin/login-codes', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as Json;
    const appId = str(body.appId);
    const openid = str(body.openid) ?? `_000${randomAlnum(24)}`;
    if (appId === undefined || !parts.apps.has(appId)) {
      return c.json({ error: 'appId must be a registered app' }, 400);
    }
    return c.json({ code: sim.issueLoginCode(appId, openid, str(body.unionid)) });
  });
  app.all(`${DOUYIN_PREFIX}/*`, async (c) => {
    const path = c.req.path;
    const handle = routes[path.slice(DOUYIN_PREFIX.length)];
    const body = await c.req
      .json()
      .then((v: unknown) => (typeof v === 'object' && v !== null ? (v as Json) : {}))
      .catch(() => ({}) as Json);
    const appId = str(body.appid) ?? sim.tokenOwner(str(body.access_token) ?? '');
    parts.counters.record(path, appId !== undefined && parts.apps.has(appId) ? appId : undefined);
    const fault = parts.faults.take(path, appId);
    if (fault !== undefined) {
      await waitFaultDelay(fault);
      if (fault.status !== undefined && fault.errcode === undefined) {
        return c.text('<html>error</html>', fault.status as 500);
      }
      if (fault.errcode !== undefined) {
        return c.json(
          fail(fault.errcode, fault.errmsg ?? 'simulated error'),
          (fault.status ?? 200) as 200,
        );
      }
    }
    if (handle === undefined) return c.json(fail(40014, `no such API ${path}`), 404);
    if (c.req.method !== 'POST') return c.json(fail(40014, 'bad params: use POST'));
    return c.json(handle(body));
  });
}
