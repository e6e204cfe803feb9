import type { SimClock } from './clock';
import { wxError } from './errors';
import { randomAlnum } from './ids';
import { codePng } from './png';
import type { Endpoint, WxContext, WxReply, WxRequest } from './wechat';
import { byTokenOwner, okJson, parseJsonBody, tokenGate } from './wechat';

/**
 * Mini program capabilities with WeChat's rules: phone-number codes (single use, 5 minutes),
 * one-time subscriptions spent by subscribe messages (43101 without one), URL scheme / link /
 * short link, and the two limited codes sharing a 100,000 lifetime quota per app (45029).
 */

/** How long a getPhoneNumber code lives. */
export const PHONE_CODE_TTL_MS = 5 * 60 * 1000;
/** The lifetime quota `getwxacode` and `createwxaqrcode` share per app. */
export const WXACODE_QUOTA = 100_000;
/** Longest validity of a URL scheme or URL link since 2022-04-11: 30 days. */
const MAX_LINK_DAYS = 30;

const ERRMSG: Readonly<Record<number, string>> = {
  40003: 'invalid openid',
  40029: 'invalid code',
  40037: 'invalid template_id',
  40066: 'invalid url',
  40097: 'invalid args',
  40159: 'invalid length for path, or the data is not json string',
  43101: 'user refuse to accept the msg',
  44002: 'empty post data',
  45029: 'qrcode count out of limit',
  47001: 'data format error',
  47003: 'argument invalid!',
};

/** A number as WeChat answers it; `phoneNumber` has the `+cc` for numbers outside China. */
export interface SimPhone {
  purePhoneNumber: string;
  countryCode?: string;
}

/** A subscribe message as the simulator received it. */
export interface SentSubscribeMessage {
  appId: string;
  touser: string;
  templateId: string;
  body: Record<string, unknown>;
  msgid: string;
}

interface PhoneCode extends SimPhone {
  appId: string;
  openid?: string;
  expiresAt: number;
}

/** State of the capability endpoints: codes, subscriptions, sent messages, quotas. */
export class CapabilityBook {
  private readonly phoneCodes = new Map<string, PhoneCode>();
  private readonly subscriptions = new Map<string, number>();
  private readonly sent: SentSubscribeMessage[] = [];
  private readonly quotaUsed = new Map<string, number>();
  private serial = 0;

  constructor(private readonly clock: SimClock) {}

  /** A single-use code for `getuserphonenumber`, valid 5 minutes (bound to `openid` if given). */
  issuePhoneCode(appId: string, phone: SimPhone, openid?: string): string {
    if (!/^\d{4,20}$/.test(phone.purePhoneNumber)) throw new Error('purePhoneNumber: digits');
    const code = randomAlnum(32).toLowerCase();
    const expiresAt = this.clock.now() + PHONE_CODE_TTL_MS;
    this.phoneCodes.set(code, { ...phone, appId, expiresAt, ...(openid ? { openid } : {}) });
    return code;
  }

  /** The user accepts `count` one-time subscriptions of a template (one per message). */
  grantSubscription(appId: string, openid: string, templateId: string, count = 1): void {
    const key = `${appId}|${openid}|${templateId}`;
    this.subscriptions.set(key, (this.subscriptions.get(key) ?? 0) + count);
  }

  /** Subscribe messages sent, oldest first (of one app when given). */
  subscribeMessages(appId?: string): SentSubscribeMessage[] {
    return this.sent.filter((m) => appId === undefined || m.appId === appId);
  }

  /** Sets how much of an app's limited-code quota is spent (to reach 45029 quickly). */
  setWxacodeQuotaUsed(appId: string, used: number): void {
    this.quotaUsed.set(appId, used);
  }

  wxacodeQuotaUsed(appId: string): number {
    return this.quotaUsed.get(appId) ?? 0;
  }

  redeemPhoneCode(appId: string, code: string, openid?: string): PhoneCode | number {
    const found = this.phoneCodes.get(code);
    if (found === undefined || found.appId !== appId) return 40029;
    this.phoneCodes.delete(code); // single use, even when refused below
    if (found.expiresAt <= this.clock.now()) return 40029;
    if (openid !== undefined && found.openid !== undefined && openid !== found.openid) return 40029;
    return found;
  }

  spendSubscription(appId: string, openid: string, templateId: string): boolean {
    const key = `${appId}|${openid}|${templateId}`;
    const left = this.subscriptions.get(key) ?? 0;
    if (left <= 0) return false;
    this.subscriptions.set(key, left - 1);
    return true;
  }

  record(m: Omit<SentSubscribeMessage, 'msgid'>): string {
    // Above 2^53, as real msgids are: a client parsing them as doubles would round them.
    const msgid = (3_000_000_000_000_000_000n + BigInt(this.nextSerial())).toString();
    this.sent.push({ ...m, msgid });
    return msgid;
  }

  /** Spends one limited code of `appId`'s quota; false once the 100,000 are spent. */
  spendQuota(appId: string): boolean {
    const used = this.wxacodeQuotaUsed(appId);
    if (used >= WXACODE_QUOTA) return false;
    this.quotaUsed.set(appId, used + 1);
    return true;
  }

  nextSerial(): number {
    this.serial += 1;
    return this.serial;
  }

  reset(): void {
    this.phoneCodes.clear();
    this.subscriptions.clear();
    this.sent.length = 0;
    this.quotaUsed.clear();
  }
}

function fail(ctx: WxContext, errcode: number): WxReply {
  return okJson(wxError(errcode, ctx.clock.now(), { errmsg: ERRMSG[errcode] ?? 'error' }));
}

type Body = Record<string, unknown>;

/** The token's app and the JSON object body, or the error reply (44002, 47001). */
function gate(req: WxRequest, ctx: WxContext): { appId: string; body: Body } | { reply: WxReply } {
  const g = tokenGate(req, ctx);
  if ('reply' in g) return g;
  const parsed = parseJsonBody(req.body);
  if (parsed.kind === 'empty') return { reply: fail(ctx, 44002) };
  const v = parsed.kind === 'ok' ? parsed.value : undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { reply: fail(ctx, 47001) };
  return { appId: g.appId, body: v as Body };
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** Endpoint with the token gate and a JSON body. */
function endpoint(handle: (appId: string, body: Body, ctx: WxContext) => WxReply): Endpoint {
  return {
    method: 'POST',
    appIdOf: byTokenOwner,
    handle(req, ctx) {
      const g = gate(req, ctx);
      return 'reply' in g ? g.reply : handle(g.appId, g.body, ctx);
    },
  };
}

const phoneNumber = endpoint((appId, body, ctx) => {
  const code = str(body.code);
  if (code === undefined) return fail(ctx, 40029);
  const found = ctx.capabilities.redeemPhoneCode(appId, code, str(body.openid));
  if (typeof found === 'number') return fail(ctx, found);
  const countryCode = found.countryCode ?? '86';
  const pure = found.purePhoneNumber;
  return okJson({
    errcode: 0,
    errmsg: 'ok',
    phone_info: {
      phoneNumber: countryCode === '86' ? pure : `+${countryCode}${pure}`,
      purePhoneNumber: pure,
      countryCode,
      watermark: { timestamp: Math.floor(ctx.clock.now() / 1000), appid: appId },
    },
  });
});

const subscribeSend = endpoint((appId, body, ctx) => {
  const touser = str(body.touser);
  const templateId = str(body.template_id);
  if (touser === undefined) return fail(ctx, 40003);
  if (templateId === undefined) return fail(ctx, 40037);
  if (typeof body.data !== 'object' || body.data === null) return fail(ctx, 47003);
  if (!ctx.capabilities.spendSubscription(appId, touser, templateId)) return fail(ctx, 43101);
  const msgid = ctx.capabilities.record({ appId, touser, templateId, body });
  return {
    kind: 'text',
    status: 200,
    contentType: 'application/json; encoding=utf-8',
    body: `{"errcode":0,"errmsg":"ok","msgid":${msgid}}`,
  };
});

/** 40097 for an expiry WeChat refuses: a type other than 0/1, over 30 days, or in the past. */
function badExpiry(body: Body, now: number): boolean {
  const type = body.expire_type ?? 0;
  if (type !== 0 && type !== 1) return true;
  if (type === 1) {
    const days = body.expire_interval;
    return typeof days !== 'number' || days < 1 || days > MAX_LINK_DAYS;
  }
  const at = body.expire_time;
  if (at === undefined) return false;
  return typeof at !== 'number' || at * 1000 <= now || at * 1000 > now + MAX_LINK_DAYS * 86_400_000;
}

const tooLong = (v: unknown, max: number) => typeof v === 'string' && v.length > max;

const generateScheme = endpoint((_appId, body, ctx) => {
  const jump = body.jump_wxa;
  const query = typeof jump === 'object' && jump !== null ? (jump as Body).query : undefined;
  if (tooLong(query, 1024) || badExpiry(body, ctx.clock.now())) return fail(ctx, 40097);
  return okJson({
    errcode: 0,
    errmsg: 'ok',
    openlink: `weixin://dl/business/?t=${randomAlnum(12)}`,
  });
});

const generateUrlLink = endpoint((_appId, body, ctx) => {
  if (tooLong(body.query, 1024) || badExpiry(body, ctx.clock.now())) return fail(ctx, 40097);
  return okJson({ errcode: 0, errmsg: 'ok', url_link: `https://wxaurl.cn/${randomAlnum(12)}` });
});

const genShortLink = endpoint((_appId, body, ctx) => {
  const page = str(body.page_url);
  if (page === undefined || page.length > 1024) return fail(ctx, 40066);
  return okJson({ errcode: 0, errmsg: 'ok', link: `#小程序://wxhub模拟/${randomAlnum(12)}` });
});

/** getwxacode / createwxaqrcode: a PNG per call, each spending one of the shared quota. */
function limitedCode(kind: string, maxPath: number): Endpoint {
  return endpoint((appId, body, ctx) => {
    const path = str(body.path);
    if (path === undefined || path.length > maxPath) return fail(ctx, 40159);
    if (!ctx.capabilities.spendQuota(appId)) return fail(ctx, 45029);
    const width = typeof body.width === 'number' ? body.width : 430;
    const serial = ctx.capabilities.nextSerial();
    const png = codePng(`${appId} ${kind} ${path}`, `wxhub-sim ${kind} width=${width} #${serial}`);
    return { kind: 'bytes', status: 200, body: png, contentType: 'image/png' };
  });
}

/** The capability endpoints by path (registered beside ./wechat.ts's ENDPOINTS). */
export const CAPABILITY_ENDPOINTS: Readonly<Record<string, Endpoint>> = {
  '/wxa/business/getuserphonenumber': phoneNumber,
  '/cgi-bin/message/subscribe/send': subscribeSend,
  '/wxa/generatescheme': generateScheme,
  '/wxa/generate_urllink': generateUrlLink,
  '/wxa/genwxashortlink': genShortLink,
  '/wxa/getwxacode': limitedCode('getwxacode', 1024),
  '/cgi-bin/wxaapp/createwxaqrcode': limitedCode('createwxaqrcode', 128),
};
