import { createHash, randomBytes } from 'node:crypto';
import { type Context, type Hono, Hono as HonoApp } from 'hono';
import type { SimClock } from './clock';
import { encryptForPush } from './component';
import { wxError } from './errors';
import type { CallCounters, FaultBook } from './faults';
import { newAccessToken } from './ids';
import type { WxReply } from './wechat';

/**
 * WeCom third-party suites as `qyapi.weixin.qq.com` serves them, under the `/qyapi` prefix
 * (`WECOM_API_BASE` = `${sim.url}/qyapi`), with WeCom's rules:
 * - the suite ticket is pushed to the command URL every 10 minutes and accepted for 30 minutes
 *   (https://developer.work.weixin.qq.com/document/path/90628); `get_suite_token` answers 40085
 *   for any other ticket, 40080 for a wrong secret, 40083 for an unknown suite;
 * - suite tokens live 2 hours (42009 after, 40082 for one never issued), pre-auth codes 20 minutes
 *   (40077), auth codes 10 minutes and single use (40078), permanent codes until `cancel_auth`
 *   (40084), corp tokens 2 hours (42001 after, 40014 for one never issued);
 * - successful token answers carry no errcode ("errcode is returned only on failure",
 *   https://developer.work.weixin.qq.com/document/path/97162);
 * - pushes are encrypted (ReceiveId: the suite id on the command URL, the corp's corpid on the
 *   data URL, the provider corpid for URL verification) and signed with `msg_signature` only
 *   (https://developer.work.weixin.qq.com/document/path/91144).
 * Calls are counted and faults injected by the full path (`/qyapi/cgi-bin/service/…`).
 */

export const WECOM_PREFIX = '/qyapi';
const SUITE_TICKET_TTL_MS = 30 * 60_000;
const SUITE_TICKET_PUSH_MS = 10 * 60_000;
const TOKEN_TTL_MS = 7_200_000;
const PRE_AUTH_TTL_MS = 1_200_000;
const AUTH_CODE_TTL_MS = 600_000;

/** A suite the simulator plays. */
export interface SimSuiteConfig {
  suiteId: string;
  suiteSecret: string;
  token: string;
  encodingAesKey: string;
  providerCorpId: string;
  /** Where the suite ticket and auth events are pushed (the hub's command URL). */
  commandUrl?: string;
}

interface CorpState {
  corpId: string;
  corpName: string;
  permanentCode: string | undefined;
  tokens: Map<string, number>;
}

interface SuiteState {
  cfg: SimSuiteConfig;
  tickets: Map<string, number>;
  lastPushAt: number | undefined;
  tokens: Map<string, number>;
  preAuthCodes: Map<string, { expiresAt: number; authType: number }>;
  authCodes: Map<string, { corpId: string; expiresAt: number; state: string }>;
  corps: Map<string, CorpState>;
}

/** A push the simulator made, and the hub's answer. */
export interface SuitePush {
  status: number;
  body: string;
}

const sha1 = (...parts: string[]) => createHash('sha1').update(parts.sort().join('')).digest('hex');

/** The suites, their tickets, tokens, codes and authorized corps. */
export class WecomSuiteBook {
  private readonly suites = new Map<string, SuiteState>();
  private readonly corpTokens = new Map<string, { expiresAt: number; corpId: string }>();

  constructor(
    readonly clock: SimClock,
    private readonly send: typeof fetch,
  ) {}

  /** Adds or updates a suite (its ticket, tokens and corps are kept). */
  register(cfg: SimSuiteConfig): void {
    const old = this.suites.get(cfg.suiteId);
    if (old !== undefined) {
      old.cfg = { ...cfg };
      return;
    }
    this.suites.set(cfg.suiteId, {
      cfg: { ...cfg },
      tickets: new Map(),
      lastPushAt: undefined,
      tokens: new Map(),
      preAuthCodes: new Map(),
      authCodes: new Map(),
      corps: new Map(),
    });
  }

  has(suiteId: string): boolean {
    return this.suites.has(suiteId);
  }

  private mustGet(suiteId: string): SuiteState {
    const s = this.suites.get(suiteId);
    if (s === undefined) throw new Error(`unknown suite ${suiteId}: register it first`);
    return s;
  }

  /** Mints a suite ticket and pushes it to `url` or the suite's command URL. */
  async pushTicket(suiteId: string, url?: string): Promise<SuitePush & { ticket: string }> {
    const s = this.mustGet(suiteId);
    const now = this.clock.now();
    const ticket = `st_${randomBytes(24).toString('base64url')}`;
    s.tickets.set(ticket, now + SUITE_TICKET_TTL_MS);
    s.lastPushAt = now;
    const target = url ?? s.cfg.commandUrl;
    if (target === undefined) return { ticket, status: 0, body: '' };
    const res = await this.command(
      s,
      target,
      `<SuiteId><![CDATA[${suiteId}]]></SuiteId><InfoType><![CDATA[suite_ticket]]></InfoType>` +
        `<TimeStamp>${Math.floor(now / 1000)}</TimeStamp><SuiteTicket><![CDATA[${ticket}]]></SuiteTicket>`,
    );
    return { ticket, ...res };
  }

  /** Pushes a ticket to every suite with a command URL last pushed 10+ sim minutes ago. */
  async pushDue(): Promise<number> {
    let pushed = 0;
    for (const s of this.suites.values()) {
      if (s.cfg.commandUrl === undefined) continue;
      if (s.lastPushAt !== undefined && this.clock.now() - s.lastPushAt < SUITE_TICKET_PUSH_MS) {
        continue;
      }
      try {
        await this.pushTicket(s.cfg.suiteId);
        pushed += 1;
      } catch {
        // WeCom tries again at its next 10-minute slot; so does the simulator.
      }
    }
    return pushed;
  }

  /** A single-use auth code (10 minutes) for `corpId` installing the suite. */
  issueAuthCode(suiteId: string, corpId: string, opts: { corpName?: string; state?: string } = {}) {
    const s = this.mustGet(suiteId);
    // WeCom's auth codes are 64 to 512 bytes (40058 below 64).
    const code = `ac_${randomBytes(48).toString('base64url')}`;
    s.authCodes.set(code, {
      corpId,
      expiresAt: this.clock.now() + AUTH_CODE_TTL_MS,
      state: opts.state ?? '',
    });
    if (!s.corps.has(corpId)) {
      s.corps.set(corpId, {
        corpId,
        corpName: opts.corpName ?? `Corp ${corpId}`,
        permanentCode: undefined,
        tokens: new Map(),
      });
    }
    return code;
  }

  /**
   * Seeds a corp that installed the suite earlier with its permanent code (benches and tests
   * that start from many installed corps, as `grantAuthorizer` does for authorizers); its
   * `get_corp_token` then works. The suite must be registered.
   */
  grantCorp(suiteId: string, corpId: string, permanentCode: string, corpName?: string): void {
    const s = this.mustGet(suiteId);
    const corp = s.corps.get(corpId);
    if (corp !== undefined) {
      corp.permanentCode = permanentCode;
      return;
    }
    s.corps.set(corpId, {
      corpId,
      corpName: corpName ?? `Corp ${corpId}`,
      permanentCode,
      tokens: new Map(),
    });
  }

  /**
   * A corp installs the suite from WeCom's app market: `create_auth` with a fresh auth code is
   * pushed `deliveries` times at once (WeCom's retries) to `url` or the command URL.
   */
  async createAuth(
    suiteId: string,
    corpId: string,
    opts: { url?: string; deliveries?: number; corpName?: string; state?: string } = {},
  ): Promise<{ authCode: string; answers: SuitePush[] }> {
    const s = this.mustGet(suiteId);
    const authCode = this.issueAuthCode(suiteId, corpId, opts);
    const inner =
      `<SuiteId><![CDATA[${suiteId}]]></SuiteId><AuthCode><![CDATA[${authCode}]]></AuthCode>` +
      `<InfoType><![CDATA[create_auth]]></InfoType><TimeStamp>${Math.floor(this.clock.now() / 1000)}</TimeStamp>` +
      `<State><![CDATA[${opts.state ?? ''}]]></State>`;
    const target = opts.url ?? s.cfg.commandUrl;
    if (target === undefined) throw new Error(`suite ${suiteId} has no command URL`);
    const answers = await Promise.all(
      Array.from({ length: opts.deliveries ?? 1 }, () => this.command(s, target, inner)),
    );
    return { authCode, answers };
  }

  /** The corp uninstalls the suite: its permanent code and tokens stop working; `cancel_auth` is pushed. */
  async cancelAuth(suiteId: string, corpId: string, url?: string): Promise<SuitePush> {
    const s = this.mustGet(suiteId);
    const corp = s.corps.get(corpId);
    if (corp !== undefined) {
      corp.permanentCode = undefined;
      for (const t of corp.tokens.keys()) this.corpTokens.delete(t);
      corp.tokens.clear();
    }
    const target = url ?? s.cfg.commandUrl;
    if (target === undefined) throw new Error(`suite ${suiteId} has no command URL`);
    return this.command(
      s,
      target,
      `<SuiteId><![CDATA[${suiteId}]]></SuiteId><InfoType><![CDATA[cancel_auth]]></InfoType>` +
        `<TimeStamp>${Math.floor(this.clock.now() / 1000)}</TimeStamp><AuthCorpId><![CDATA[${corpId}]]></AuthCorpId>`,
    );
  }

  /** `change_auth` for `corpId` (nothing changes in the simulator). */
  async changeAuth(suiteId: string, corpId: string, url?: string): Promise<SuitePush> {
    const s = this.mustGet(suiteId);
    const target = url ?? s.cfg.commandUrl;
    if (target === undefined) throw new Error(`suite ${suiteId} has no command URL`);
    return this.command(
      s,
      target,
      `<SuiteId><![CDATA[${suiteId}]]></SuiteId><InfoType><![CDATA[change_auth]]></InfoType>` +
        `<TimeStamp>${Math.floor(this.clock.now() / 1000)}</TimeStamp><AuthCorpId><![CDATA[${corpId}]]></AuthCorpId>`,
    );
  }

  /**
   * The admin on WeCom's install page (`/3rdapp/install?suite_id&pre_auth_code&redirect_uri&state`)
   * approves for `corpId`: the browser's next URL (`redirect_uri?auth_code&expires_in=600&state`),
   * or an error for a bad page URL or pre-auth code. No push: installs started on the provider's
   * site get none (https://developer.work.weixin.qq.com/document/path/90642).
   */
  approveInstall(installUrl: string, corpId: string, corpName?: string): string {
    const u = new URL(installUrl);
    const suiteId = u.searchParams.get('suite_id') ?? '';
    const s = this.suites.get(suiteId);
    if (s === undefined) throw new Error('install page: unknown suite_id');
    const pre = s.preAuthCodes.get(u.searchParams.get('pre_auth_code') ?? '');
    if (pre === undefined || pre.expiresAt <= this.clock.now()) {
      throw new Error('install page: invalid pre_auth_code (40077)');
    }
    const redirect = u.searchParams.get('redirect_uri');
    if (redirect === null) throw new Error('install page: no redirect_uri');
    const state = u.searchParams.get('state') ?? '';
    const code = this.issueAuthCode(suiteId, corpId, {
      state,
      ...(corpName === undefined ? {} : { corpName }),
    });
    const next = new URL(redirect);
    next.searchParams.set('auth_code', code);
    next.searchParams.set('expires_in', '600');
    next.searchParams.set('state', state);
    return next.toString();
  }

  /** A user message for the data URL of `corpId`, encrypted with ReceiveId = the corpid. */
  async pushData(suiteId: string, corpId: string, url: string, inner: string): Promise<SuitePush> {
    const s = this.mustGet(suiteId);
    return this.post(s, url, inner, corpId, corpId);
  }

  /**
   * WeCom's URL verification (GET) of `url`: `echostr` encrypted with `receiveId` (the provider
   * corpid for suite URLs). The hub's answer, and whether it is the plaintext.
   */
  async verifyUrl(
    suiteId: string,
    url: string,
    receiveId?: string,
  ): Promise<SuitePush & { ok: boolean }> {
    const s = this.mustGet(suiteId);
    const plain = String(randomBytes(8).readBigUInt64BE(0));
    const echostr = encryptForPush(s.cfg.encodingAesKey, plain, receiveId ?? s.cfg.providerCorpId);
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const target = new URL(url);
    target.searchParams.set('msg_signature', sha1(s.cfg.token, timestamp, nonce, echostr));
    target.searchParams.set('timestamp', timestamp);
    target.searchParams.set('nonce', nonce);
    target.searchParams.set('echostr', echostr);
    const res = await this.send(target.toString());
    const body = await res.text();
    return { status: res.status, body, ok: res.status === 200 && body === plain };
  }

  /** Whether a corp token works now. */
  isCorpTokenValid(token: string): boolean {
    const t = this.corpTokens.get(token);
    return t !== undefined && t.expiresAt > this.clock.now();
  }

  /** The corp's live permanent code (tests check the hub never shows it). */
  permanentCodeOf(suiteId: string, corpId: string): string | undefined {
    return this.suites.get(suiteId)?.corps.get(corpId)?.permanentCode;
  }

  /** Kills a suite or corp token before its expiry. */
  killToken(token: string): boolean {
    if (this.corpTokens.delete(token)) return true;
    for (const s of this.suites.values()) if (s.tokens.delete(token)) return true;
    return false;
  }

  /** Forgets tickets, tokens, codes and corps (registrations stay). */
  reset(): void {
    this.corpTokens.clear();
    for (const s of this.suites.values()) {
      s.tickets.clear();
      s.lastPushAt = undefined;
      s.tokens.clear();
      s.preAuthCodes.clear();
      s.authCodes.clear();
      s.corps.clear();
    }
  }

  private command(s: SuiteState, url: string, inner: string): Promise<SuitePush> {
    return this.post(s, url, inner, s.cfg.suiteId, s.cfg.suiteId);
  }

  /** POSTs `<xml>inner</xml>` encrypted with ReceiveId `receiveId`, signed with `msg_signature`. */
  private async post(
    s: SuiteState,
    url: string,
    inner: string,
    receiveId: string,
    toUserName: string,
  ): Promise<SuitePush> {
    const encrypted = encryptForPush(s.cfg.encodingAesKey, `<xml>${inner}</xml>`, receiveId);
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const target = new URL(url);
    target.searchParams.set('msg_signature', sha1(s.cfg.token, timestamp, nonce, encrypted));
    target.searchParams.set('timestamp', timestamp);
    target.searchParams.set('nonce', nonce);
    const body =
      `<xml><ToUserName><![CDATA[${toUserName}]]></ToUserName>` +
      `<Encrypt><![CDATA[${encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>`;
    const res = await this.send(target.toString(), {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
    return { status: res.status, body: await res.text() };
  }

  /** The suite whose live token `token` is, or WeCom's errcode. */
  private bySuiteToken(token: string | undefined): SuiteState | number {
    if (token === undefined || token === '') return 41001;
    for (const s of this.suites.values()) {
      const exp = s.tokens.get(token);
      if (exp === undefined) continue;
      return exp > this.clock.now() ? s : 42009;
    }
    return 40082;
  }

  /** Whose call it is (suite id, or corpid for corp tokens), without changing anything. */
  ownerOf(path: string, query: URLSearchParams, body: Record<string, unknown>): string | undefined {
    if (path === '/cgi-bin/service/get_suite_token') {
      const id = typeof body.suite_id === 'string' ? body.suite_id : '';
      return this.suites.has(id) ? id : undefined;
    }
    if (path === '/cgi-bin/service/get_corp_token') {
      const id = typeof body.auth_corpid === 'string' ? body.auth_corpid : undefined;
      return id;
    }
    const suite = this.bySuiteToken(query.get('suite_access_token') ?? undefined);
    if (typeof suite !== 'number') return suite.cfg.suiteId;
    return this.corpTokens.get(query.get('access_token') ?? '')?.corpId;
  }

  /** Serves one API call; `path` without the prefix. Undefined: not a suite API. */
  handle(
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { reply: WxReply; owner?: string } | undefined {
    const now = this.clock.now();
    const err = (errcode: number, owner?: string) => ({
      reply: { kind: 'json' as const, status: 200, body: wxError(errcode, now) },
      ...(owner === undefined ? {} : { owner }),
    });
    const ok = (b: Record<string, unknown>, owner: string) => ({
      reply: { kind: 'json' as const, status: 200, body: b },
      owner,
    });
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    if (path === '/cgi-bin/service/get_suite_token') {
      const s = this.suites.get(str(body.suite_id));
      if (s === undefined) return err(40083);
      if (str(body.suite_secret) !== s.cfg.suiteSecret) return err(40080, s.cfg.suiteId);
      const exp = s.tickets.get(str(body.suite_ticket));
      if (exp === undefined || exp <= now) return err(40085, s.cfg.suiteId);
      const token = `suite_${newAccessToken()}`;
      for (const [t, e] of s.tokens) if (e <= now) s.tokens.delete(t);
      s.tokens.set(token, now + TOKEN_TTL_MS);
      return ok({ suite_access_token: token, expires_in: 7200 }, s.cfg.suiteId);
    }
    const suite = this.bySuiteToken(query.get('suite_access_token') ?? undefined);
    const suiteCalls = [
      '/cgi-bin/service/get_pre_auth_code',
      '/cgi-bin/service/set_session_info',
      '/cgi-bin/service/v2/get_permanent_code',
      '/cgi-bin/service/get_corp_token',
    ];
    if (suiteCalls.includes(path) && typeof suite === 'number') return err(suite);
    if (typeof suite === 'number') return this.corpApi(path, query, now);
    const owner = suite.cfg.suiteId;
    if (path === '/cgi-bin/service/get_pre_auth_code') {
      const code = `pre_${randomBytes(24).toString('base64url')}`;
      suite.preAuthCodes.set(code, { expiresAt: now + PRE_AUTH_TTL_MS, authType: 0 });
      return ok({ errcode: 0, errmsg: 'ok', pre_auth_code: code, expires_in: 1200 }, owner);
    }
    if (path === '/cgi-bin/service/set_session_info') {
      const pre = suite.preAuthCodes.get(str(body.pre_auth_code));
      if (pre === undefined || pre.expiresAt <= now) return err(40077, owner);
      const info = body.session_info as { auth_type?: unknown } | undefined;
      pre.authType = typeof info?.auth_type === 'number' ? info.auth_type : 0;
      return ok({ errcode: 0, errmsg: 'ok' }, owner);
    }
    if (path === '/cgi-bin/service/v2/get_permanent_code') {
      const code = str(body.auth_code);
      if (code.length > 0 && code.length < 64) return err(40058, owner);
      const ac = suite.authCodes.get(code);
      // Single use: gone once exchanged (or expired).
      suite.authCodes.delete(code);
      if (ac === undefined || ac.expiresAt <= now) return err(40078, owner);
      const corp = suite.corps.get(ac.corpId);
      if (corp === undefined) return err(40078, owner);
      corp.permanentCode = `pc_${randomBytes(32).toString('base64url')}`;
      return ok(
        {
          permanent_code: corp.permanentCode,
          auth_corp_info: { corpid: corp.corpId, corp_name: corp.corpName },
          auth_user_info: { userid: 'admin', open_userid: 'woAdmin', name: 'Admin' },
          state: ac.state,
        },
        owner,
      );
    }
    if (path === '/cgi-bin/service/get_corp_token') {
      const corp = suite.corps.get(str(body.auth_corpid));
      const pc = str(body.permanent_code);
      if (corp?.permanentCode === undefined || corp.permanentCode !== pc) return err(40084, owner);
      const token = `corp_${newAccessToken()}`;
      for (const [t, e] of corp.tokens) {
        if (e <= now) {
          corp.tokens.delete(t);
          this.corpTokens.delete(t);
        }
      }
      corp.tokens.set(token, now + TOKEN_TTL_MS);
      this.corpTokens.set(token, { expiresAt: now + TOKEN_TTL_MS, corpId: corp.corpId });
      return ok({ access_token: token, expires_in: 7200 }, corp.corpId);
    }
    return undefined;
  }

  /** A corp API called with a corp token (the proxy's target). */
  private corpApi(path: string, query: URLSearchParams, now: number) {
    if (path !== '/cgi-bin/department/simplelist') return undefined;
    const token = query.get('access_token') ?? '';
    const t = this.corpTokens.get(token);
    if (t === undefined) {
      return { reply: { kind: 'json' as const, status: 200, body: wxError(40014, now) } };
    }
    if (t.expiresAt <= now) {
      return {
        reply: { kind: 'json' as const, status: 200, body: wxError(42001, now) },
        owner: t.corpId,
      };
    }
    return {
      reply: {
        kind: 'json' as const,
        status: 200,
        body: { errcode: 0, errmsg: 'ok', department_id: [{ id: 1, parentid: 0, order: 1 }] },
      },
      owner: t.corpId,
    };
  }
}

/** The suite APIs a request may name before its body is read (faults and counters by suite). */
const SUITE_PATHS = new Set([
  '/cgi-bin/service/get_suite_token',
  '/cgi-bin/service/get_pre_auth_code',
  '/cgi-bin/service/set_session_info',
  '/cgi-bin/service/v2/get_permanent_code',
  '/cgi-bin/service/get_corp_token',
  '/cgi-bin/department/simplelist',
]);

/** Serves the suite APIs under `/qyapi`, counted and faultable like every simulated path. */
export function mountWecomSuites(
  app: Hono,
  book: WecomSuiteBook,
  tools: {
    counters: CallCounters;
    faults: FaultBook;
    fault: (f: NonNullable<ReturnType<FaultBook['take']>>) => Promise<WxReply | undefined>;
    toResponse: (r: WxReply) => Response;
  },
): void {
  for (const path of SUITE_PATHS) {
    app.all(`${WECOM_PREFIX}${path}`, async (c: Context) => {
      const full = `${WECOM_PREFIX}${path}`;
      const query = new URL(c.req.url).searchParams;
      let body: Record<string, unknown> = {};
      if (c.req.method === 'POST') {
        try {
          const parsed: unknown = JSON.parse(await c.req.text());
          if (typeof parsed === 'object' && parsed !== null) body = parsed as typeof body;
        } catch {
          return tools.toResponse({
            kind: 'json',
            status: 200,
            body: wxError(47001, book.clock.now()),
          });
        }
      }
      // Counted and faulted before anything changes (a faulted exchange leaves its code unused).
      const owner = book.ownerOf(path, query, body);
      tools.counters.record(full, owner);
      const f = tools.faults.take(full, owner);
      if (f !== undefined) {
        const faulted = await tools.fault(f);
        if (faulted !== undefined) return tools.toResponse(faulted);
      }
      const r = book.handle(path, query, body);
      if (r === undefined) {
        return tools.toResponse({ kind: 'json', status: 404, body: wxError(-1, book.clock.now()) });
      }
      return tools.toResponse(r.reply);
    });
  }
}

/**
 * Control routes under `/__sim/wecom-suites`: register a suite (`POST /`), push its ticket now
 * (`POST /ticket {suiteId, url?}`), install it in a corp from the app market (`POST /create-auth
 * {suiteId, corpId, corpName?, deliveries?}`), uninstall (`POST /cancel-auth {suiteId, corpId}`),
 * seed corps installed earlier (`POST /grant-corps {suiteId, corps: [{corpId, permanentCode}]}`).
 */
export function createWecomSuiteControlRoutes(book: WecomSuiteBook): Hono {
  const ctl = new HonoApp();
  const read = async (c: Context): Promise<Record<string, unknown>> => {
    try {
      const v: unknown = await c.req.json();
      return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const run = async (c: Context, work: (b: Record<string, unknown>) => Promise<unknown>) => {
    try {
      return c.json(await work(await read(c)));
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : 'failed' }, 400);
    }
  };
  ctl.post('/', (c) =>
    run(c, async (b) => {
      const cfg = {
        suiteId: str(b.suiteId),
        suiteSecret: str(b.suiteSecret),
        token: str(b.token),
        encodingAesKey: str(b.encodingAesKey),
        providerCorpId: str(b.providerCorpId),
        commandUrl: str(b.commandUrl),
      };
      const { commandUrl, ...required } = cfg;
      for (const [k, v] of Object.entries(required))
        if (v === undefined) throw new Error(`${k} is required`);
      book.register({
        ...(required as Omit<SimSuiteConfig, 'commandUrl'>),
        ...(commandUrl === undefined ? {} : { commandUrl }),
      });
      return { registered: cfg.suiteId };
    }),
  );
  ctl.post('/ticket', (c) =>
    run(c, async (b) => {
      const pushed = await book.pushTicket(str(b.suiteId) ?? '', str(b.url));
      return { status: pushed.status, body: pushed.body };
    }),
  );
  ctl.post('/create-auth', (c) =>
    run(c, async (b) => {
      const r = await book.createAuth(str(b.suiteId) ?? '', str(b.corpId) ?? '', {
        ...(str(b.corpName) === undefined ? {} : { corpName: str(b.corpName) }),
        ...(typeof b.deliveries === 'number' ? { deliveries: b.deliveries } : {}),
      });
      return { answers: r.answers };
    }),
  );
  ctl.post('/grant-corps', (c) =>
    run(c, async (b) => {
      const suiteId = str(b.suiteId) ?? '';
      const corps = Array.isArray(b.corps) ? (b.corps as Record<string, unknown>[]) : [];
      for (const corp of corps) {
        const corpId = str(corp.corpId);
        const permanentCode = str(corp.permanentCode);
        if (corpId === undefined || permanentCode === undefined) {
          throw new Error('each corp needs corpId and permanentCode');
        }
        book.grantCorp(suiteId, corpId, permanentCode);
      }
      return { granted: corps.length };
    }),
  );
  ctl.post('/cancel-auth', (c) =>
    run(c, async (b) => book.cancelAuth(str(b.suiteId) ?? '', str(b.corpId) ?? '')),
  );
  return ctl;
}
