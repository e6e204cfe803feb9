// WeCom (企业微信, qyapi.weixin.qq.com) for self-built apps, served under the `/qyapi` prefix:
// `gettoken` with WeCom's rules and errcodes, two business APIs for the proxy, counters and
// faults (the simulator's FaultBook and CallCounters, paths with the prefix), and the callbacks
// WeCom sends an app's URL (GET verification, encrypted pushes), signed and encrypted here
// independently of the hub's code. The suite half (wecom-suite.ts) reuses the exports below.
import { createHash, randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { SimClock } from './clock';
import { encryptForPush } from './component';
import { readBody } from './control-io';
import type { CallCounters, FaultBook, SimFault } from './faults';
import { waitFaultDelay } from './faults';

/** Where WeCom's host is served in the simulator: `${sim.url}/qyapi` is `WECOM_API_BASE`. */
export const WECOM_PREFIX = '/qyapi';

/** A WeCom access token lives 7200 s (https://developer.work.weixin.qq.com/document/path/91039). */
export const WECOM_TOKEN_TTL_MS = 7_200_000;

/**
 * WeCom's errmsg per errcode (global table https://developer.work.weixin.qq.com/document/path/90455);
 * the suite codes are there for wecom-suite.ts.
 */
const WECOM_ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system busy',
  40001: 'invalid secret',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40056: 'invalid agentid',
  41001: 'access_token missing',
  41002: 'corpid missing',
  41004: 'corpsecret missing',
  42001: 'access_token expired',
  42009: 'suite_access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  40082: 'invalid suite_token',
  40084: 'invalid permanent_code',
  40085: 'invalid suite_ticket',
  44002: 'empty post data',
  46004: 'invalid userid',
  47001: 'data format error',
  60020: 'not allow to access from your ip',
};

/**
 * A WeCom error answer as WeCom words it: `errmsg` with its hint, the caller's IP and the
 * look-up link (path/90455: "rely on errcode, never errmsg").
 */
export function wecomError(errcode: number, opts: { errmsg?: string; ip?: string } = {}) {
  const text = opts.errmsg ?? WECOM_ERRMSG[errcode] ?? 'error';
  const hint = randomBytes(8).toString('hex');
  const from = opts.ip === undefined ? '' : `, from ip: ${opts.ip}`;
  return {
    errcode,
    errmsg: `${text}, hint: [${hint}]${from}, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`,
  };
}

/** A self-built app of a simulated corp. */
export interface SimWecomApp {
  corpId: string;
  corpSecret: string;
  agentId?: number;
  /** Callback settings (接收消息 → 设置API接收): the URL's token and EncodingAESKey. */
  token?: string;
  encodingAesKey?: string;
  /** Users of the corp that `user/get` knows; default `["zhangsan"]`. */
  users?: string[];
}

interface IssuedToken {
  corpId: string;
  corpSecret: string;
  expiresAt: number;
  /** Answered for the token from now on, before its expiry (a fault: WeCom ended it early). */
  deadWith?: 40014 | 42001;
}

/** A message an app sent with `message/send`. */
export interface SentWecomMessage {
  corpId: string;
  agentId: unknown;
  touser: unknown;
  body: Record<string, unknown>;
}

/** What the hub answered one simulated callback. */
export interface WecomCallbackResult {
  status: number;
  body: string;
}

/** WeCom's self-built-app state: apps, tokens, messages sent. */
export class WecomBook {
  private readonly apps = new Map<string, SimWecomApp>();
  private readonly tokens = new Map<string, IssuedToken>();
  readonly sent: SentWecomMessage[] = [];

  constructor(
    readonly clock: SimClock,
    private readonly send: typeof fetch,
  ) {}

  /** Adds (or replaces) an app, keyed by corp id and secret. */
  register(app: SimWecomApp): void {
    if (!/^[A-Za-z0-9_-]{4,64}$/.test(app.corpId)) throw new Error('corpId is not a corp id');
    if (app.corpSecret === '') throw new Error('corpSecret must not be empty');
    this.apps.set(`${app.corpId}/${app.corpSecret}`, { ...app });
  }

  hasCorp(corpId: string): boolean {
    for (const a of this.apps.values()) if (a.corpId === corpId) return true;
    return false;
  }

  private app(corpId: string, secret: string): SimWecomApp | undefined {
    return this.apps.get(`${corpId}/${secret}`);
  }

  /**
   * `gettoken`: a new token valid 7200 s each call; the tokens issued before stay valid until
   * their own expiry (WeCom keeps one token per app valid through its life).
   */
  getToken(query: URLSearchParams): { status: number; body: object } {
    const corpId = query.get('corpid') ?? '';
    const secret = query.get('corpsecret') ?? '';
    if (corpId === '') return { status: 200, body: wecomError(41002) };
    if (!this.hasCorp(corpId)) return { status: 200, body: wecomError(40013) };
    if (secret === '') return { status: 200, body: wecomError(41004) };
    if (this.app(corpId, secret) === undefined) return { status: 200, body: wecomError(40001) };
    const token = randomBytes(96).toString('base64url');
    this.tokens.set(token, {
      corpId,
      corpSecret: secret,
      expiresAt: this.clock.now() + WECOM_TOKEN_TTL_MS,
    });
    // errcode only on failure (path/97162 says so of WeCom's token answers).
    return { status: 200, body: { access_token: token, expires_in: WECOM_TOKEN_TTL_MS / 1000 } };
  }

  /** The app a token belongs to, or the errcode WeCom answers for it. */
  check(token: string | null): SimWecomApp | number {
    if (token === null || token === '') return 41001;
    const t = this.tokens.get(token);
    if (t === undefined) return 40014;
    if (t.deadWith !== undefined) return t.deadWith;
    if (t.expiresAt <= this.clock.now()) return 42001;
    return this.app(t.corpId, t.corpSecret) ?? 40014;
  }

  /** The corp a token was issued to (counters, faults); undefined for an unknown token. */
  corpOf(token: string | null): string | undefined {
    return token === null ? undefined : this.tokens.get(token)?.corpId;
  }

  /** True when `token` works now (sim clock). */
  isValid(token: string): boolean {
    return typeof this.check(token) !== 'number';
  }

  /** Ends a live token early: WeCom answers `errcode` (default 42001) for it from then on. */
  kill(token: string, errcode: 40014 | 42001 = 42001): boolean {
    const t = this.tokens.get(token);
    if (t === undefined) return false;
    t.deadWith = errcode;
    return true;
  }

  /** Tokens issued so far to a corp (all of its apps). */
  issued(corpId: string): number {
    let n = 0;
    for (const t of this.tokens.values()) if (t.corpId === corpId) n += 1;
    return n;
  }

  reset(): void {
    this.tokens.clear();
    this.sent.length = 0;
  }

  private callbackApp(
    corpId: string,
    agentId?: number,
  ): SimWecomApp & Required<Pick<SimWecomApp, 'token' | 'encodingAesKey'>> {
    for (const a of this.apps.values()) {
      if (a.corpId !== corpId || (agentId !== undefined && a.agentId !== agentId)) continue;
      if (a.token !== undefined && a.encodingAesKey !== undefined) {
        return { ...a, token: a.token, encodingAesKey: a.encodingAesKey };
      }
    }
    throw new Error(`no app of corp ${corpId} has callback settings (token, encodingAesKey)`);
  }

  /**
   * The admin saves the app's callback URL: WeCom GETs it with an encrypted `echostr` and accepts
   * the URL only if the answer is the plaintext. Returns the plaintext sent and the answer.
   */
  async verifyUrl(
    corpId: string,
    url: string,
    agentId?: number,
  ): Promise<WecomCallbackResult & { expected: string; ok: boolean }> {
    const app = this.callbackApp(corpId, agentId);
    const expected = String(BigInt(`0x${randomBytes(8).toString('hex')}`));
    const echostr = encryptForPush(app.encodingAesKey, expected, corpId);
    const q = signedQuery(app.token, this.clock, echostr);
    q.set('echostr', echostr);
    const res = await this.send(`${url}${url.includes('?') ? '&' : '?'}${q.toString()}`);
    const body = await res.text();
    return { status: res.status, body, expected, ok: res.status === 200 && body === expected };
  }

  /**
   * WeCom pushes `message` (decrypted XML) to the app's URL: encrypted for ReceiveId `corpId`,
   * `msg_signature` over token, timestamp, nonce and Encrypt; no `encrypt_type`.
   */
  async push(
    corpId: string,
    url: string,
    message: string,
    agentId?: number,
  ): Promise<WecomCallbackResult> {
    const app = this.callbackApp(corpId, agentId);
    const encrypt = encryptForPush(app.encodingAesKey, message, corpId);
    const q = signedQuery(app.token, this.clock, encrypt);
    const agent = app.agentId === undefined ? '' : `<AgentID><![CDATA[${app.agentId}]]></AgentID>`;
    const body = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt>${agent}</xml>`;
    const res = await this.send(`${url}${url.includes('?') ? '&' : '?'}${q.toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
    return { status: res.status, body: await res.text() };
  }
}

/** `msg_signature`, `timestamp`, `nonce` of a callback (sha1 of the sorted four). */
function signedQuery(token: string, clock: SimClock, encrypt: string): URLSearchParams {
  const timestamp = String(Math.floor(clock.now() / 1000));
  const nonce = String(1_000_000_000 + (randomBytes(4).readUInt32BE(0) % 1_000_000_000));
  const sig = createHash('sha1')
    .update([token, timestamp, nonce, encrypt].sort().join(''))
    .digest('hex');
  return new URLSearchParams({ msg_signature: sig, timestamp, nonce });
}

/** What the WeCom routes share with the rest of the simulator. */
export interface WecomRouteDeps {
  book: WecomBook;
  faults: FaultBook;
  counters: CallCounters;
  /** The IP WeCom would see (for errmsg). */
  ipOf(c: Context): string;
}

/** A fault's answer on a WeCom path: WeCom's errcode JSON, or an HTTP status page. */
async function faultAnswer(c: Context, f: SimFault, ip: string): Promise<Response | undefined> {
  await waitFaultDelay(f);
  if (f.errcode !== undefined) {
    return c.json(
      wecomError(f.errcode, { ...(f.errmsg === undefined ? {} : { errmsg: f.errmsg }), ip }),
      (f.status ?? 200) as 200,
    );
  }
  if (f.status !== undefined)
    return c.html(`<html><body>${f.status}</body></html>`, f.status as 500);
  return undefined;
}

type Handler = (
  c: Context,
  app: SimWecomApp,
  ip: string,
  book: WecomBook,
) => Promise<Response> | Response;

/** The business APIs the proxy tests and the demo call, with the access token checked. */
const APIS: Record<string, { method: 'GET' | 'POST'; handle: Handler }> = {
  '/cgi-bin/user/get': {
    method: 'GET',
    handle: (c, app, ip) => {
      const userid = c.req.query('userid') ?? '';
      if (!(app.users ?? ['zhangsan']).includes(userid)) return c.json(wecomError(46004, { ip }));
      return c.json({ errcode: 0, errmsg: 'ok', userid, name: userid, status: 1 });
    },
  },
  '/cgi-bin/message/send': {
    method: 'POST',
    handle: async (c, app, ip, book) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        return c.json(wecomError(47001, { ip }));
      }
      if (typeof body !== 'object' || body === null) return c.json(wecomError(44002, { ip }));
      const b = body as Record<string, unknown>;
      if (app.agentId !== undefined && Number(b.agentid) !== app.agentId) {
        return c.json(wecomError(40056, { ip }));
      }
      book.sent.push({ corpId: app.corpId, agentId: b.agentid, touser: b.touser, body: b });
      return c.json({
        errcode: 0,
        errmsg: 'ok',
        invaliduser: '',
        msgid: randomBytes(12).toString('hex'),
      });
    },
  },
};

/**
 * Mounts `/qyapi/cgi-bin/gettoken` and {@link APIS} on the simulator's app (before its WeChat
 * catch-all). Calls are counted per path (with the prefix) and corp; faults queued for such a
 * path (optionally for a corp id) apply first.
 */
export function mountWecom(app: Hono, deps: WecomRouteDeps): void {
  const { book, faults, counters } = deps;
  const begin = async (c: Context, corpId: string | undefined) => {
    const path = c.req.path;
    counters.record(path, corpId !== undefined && book.hasCorp(corpId) ? corpId : undefined);
    const f = faults.take(path, corpId);
    return f === undefined ? undefined : faultAnswer(c, f, deps.ipOf(c));
  };
  app.all(`${WECOM_PREFIX}/cgi-bin/gettoken`, async (c) => {
    const faulted = await begin(c, c.req.query('corpid'));
    if (faulted !== undefined) return faulted;
    if (c.req.method !== 'GET') return c.json(wecomError(43001, { ip: deps.ipOf(c) }));
    const r = book.getToken(new URL(c.req.url).searchParams);
    return c.json(r.body, r.status as 200);
  });
  for (const [path, api] of Object.entries(APIS)) {
    app.all(`${WECOM_PREFIX}${path}`, async (c) => {
      const token = c.req.query('access_token') ?? null;
      const faulted = await begin(c, book.corpOf(token));
      if (faulted !== undefined) return faulted;
      const ip = deps.ipOf(c);
      if (c.req.method !== api.method) {
        return c.json(wecomError(api.method === 'POST' ? 43002 : 43001, { ip }));
      }
      const owner = book.check(token);
      if (typeof owner === 'number') return c.json(wecomError(owner, { ip }));
      return api.handle(c, owner, ip, book);
    });
  }
  mountWecomControl(app, book);
  app.all(`${WECOM_PREFIX}/*`, async (c) => {
    await begin(c, undefined);
    return c.json(
      wecomError(-1, { errmsg: `wxhub simulator: ${c.req.path} is not a simulated WeCom API` }),
      404,
    );
  });
}

const appSchema = z.strictObject({
  corpId: z.string().regex(/^[A-Za-z0-9_-]{4,64}$/),
  corpSecret: z.string().min(1),
  agentId: z.number().int().positive().optional(),
  token: z.string().min(1).optional(),
  encodingAesKey: z.string().length(43).optional(),
  users: z.array(z.string().min(1)).optional(),
});
const urlSchema = z.url({ protocol: /^https?$/ });

/**
 * Control routes (`npm run dev`, curl): `POST /__sim/wecom/apps` adds an app, `POST
 * /__sim/wecom/verify-url` `{corpId, url}` plays the admin saving the callback URL, `POST
 * /__sim/wecom/push` `{corpId, url, content?, fromUser?}` sends a text message push.
 */
function mountWecomControl(app: Hono, book: WecomBook): void {
  app.post('/__sim/wecom/apps', async (c) => {
    const body = await readBody(c, appSchema);
    if (!body.ok) return body.response;
    const { agentId, token, encodingAesKey, users, ...rest } = body.value;
    book.register({
      ...rest,
      ...(agentId === undefined ? {} : { agentId }),
      ...(token === undefined ? {} : { token }),
      ...(encodingAesKey === undefined ? {} : { encodingAesKey }),
      ...(users === undefined ? {} : { users }),
    });
    return c.json({ ok: true });
  });
  app.post('/__sim/wecom/verify-url', async (c) => {
    const body = await readBody(c, z.strictObject({ corpId: z.string(), url: urlSchema }));
    if (!body.ok) return body.response;
    try {
      return c.json(await book.verifyUrl(body.value.corpId, body.value.url));
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : String(err) }, 400);
    }
  });
  app.post('/__sim/wecom/push', async (c) => {
    const schema = z.strictObject({
      corpId: z.string(),
      url: urlSchema,
      content: z.string().default('hello'),
      fromUser: z.string().default('zhangsan'),
    });
    const body = await readBody(c, schema);
    if (!body.ok) return body.response;
    const { corpId, url, content, fromUser } = body.value;
    const now = Math.floor(book.clock.now() / 1000);
    const msgId = `${now}${String(randomBytes(4).readUInt32BE(0)).padStart(10, '0')}`;
    const message = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[${fromUser}]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`;
    try {
      return c.json(await book.push(corpId, url, message));
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : String(err) }, 400);
    }
  });
}
