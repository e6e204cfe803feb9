import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { SimClock } from './clock';
import { newAccessToken } from './ids';
import { TOKEN_TTL_MS } from './state';

/**
 * The component (third-party platform) side of WeChat's Open Platform:
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
 * (a ticket pushed every 10 minutes, valid 12 hours) and
 * https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
 * (`api_component_token`: 61005 expired ticket, 61006 invalid ticket).
 */

/** Registration of one simulated third-party platform. */
export interface SimComponentConfig {
  appId: string;
  secret: string;
  /** The platform's message-verification Token. */
  token: string;
  /** The platform's 43-character EncodingAESKey. */
  encodingAesKey: string;
  /** The hub's auth-event URL; when set, a fresh ticket is pushed every 10 minutes of sim time. */
  eventUrl?: string;
}

/** Spacing of automatic ticket pushes (10 min). */
export const TICKET_PUSH_INTERVAL_MS = 10 * 60 * 1000;
/** How long a ticket is accepted (12 h). */
export const TICKET_TTL_MS = 12 * 60 * 60 * 1000;

interface ComponentState {
  cfg: SimComponentConfig;
  /** The latest ticket pushed and when (sim ms). */
  ticket?: { value: string; createdAt: number };
  lastPushAt?: number;
  tokens: Map<string, number>;
}

/** Result of a ticket push. */
export interface TicketPush {
  ticket: string;
  createTime: number;
  /** HTTP status the hub answered, when the push was sent. */
  status?: number;
  /** Body the hub answered. */
  body?: string;
}

/** Everything the simulator knows about components; pure state plus the push sender. */
export class ComponentBook {
  private readonly components = new Map<string, ComponentState>();

  constructor(
    private readonly clock: SimClock,
    private readonly send: typeof fetch,
  ) {}

  register(cfg: SimComponentConfig): void {
    const prev = this.components.get(cfg.appId);
    this.components.set(cfg.appId, { tokens: new Map(), ...prev, cfg: { ...cfg } });
  }

  has(appId: string): boolean {
    return this.components.has(appId);
  }

  /**
   * `api_component_token`: a fresh 7200 s token when appid, secret and the latest ticket match;
   * otherwise WeChat's errcode (40013 unknown appid, 40125 bad secret, 61006 a ticket that is not
   * the latest one pushed, 61005 the latest one but older than 12 h).
   */
  componentToken(
    appId: string | undefined,
    secret: string | undefined,
    ticket: string | undefined,
  ): { component_access_token: string; expires_in: number } | { errcode: number } {
    if (appId === undefined) return { errcode: 41002 };
    const state = this.components.get(appId);
    if (!state) return { errcode: 40013 };
    if (secret !== state.cfg.secret) return { errcode: 40125 };
    const now = this.clock.now();
    if (!state.ticket || ticket !== state.ticket.value) return { errcode: 61006 };
    if (now - state.ticket.createdAt >= TICKET_TTL_MS) return { errcode: 61005 };
    const token = `c_${newAccessToken()}`;
    state.tokens.set(token, now + TOKEN_TTL_MS);
    return { component_access_token: token, expires_in: TOKEN_TTL_MS / 1000 };
  }

  /** True when `token` is a live component_access_token of `appId`. */
  isTokenValid(appId: string, token: string): boolean {
    const expires = this.components.get(appId)?.tokens.get(token);
    return expires !== undefined && this.clock.now() < expires;
  }

  /**
   * Mint a new ticket (it becomes the only one `api_component_token` accepts) and POST it to `url`
   * (default: the component's `eventUrl`) as WeChat does; without any URL the ticket is only kept.
   */
  async pushTicket(appId: string, url?: string): Promise<TicketPush> {
    const state = this.components.get(appId);
    if (!state) throw new Error(`unknown component ${appId}: register it first`);
    const now = this.clock.now();
    const createTime = Math.floor(now / 1000);
    const ticket = `ticket@@@${randomBytes(24).toString('base64url')}`;
    state.ticket = { value: ticket, createdAt: now };
    state.lastPushAt = now;
    const target = url ?? state.cfg.eventUrl;
    if (target === undefined) return { ticket, createTime };
    const xml =
      `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>${createTime}</CreateTime>` +
      '<InfoType><![CDATA[component_verify_ticket]]></InfoType>' +
      `<ComponentVerifyTicket><![CDATA[${ticket}]]></ComponentVerifyTicket></xml>`;
    const res = await this.post(state.cfg, target, xml, createTime);
    return { ticket, createTime, status: res.status, body: await res.text() };
  }

  /**
   * Push a ticket for every component with an `eventUrl` whose last push is 10 minutes (sim time)
   * old or more. Returns how many were pushed; a hub that is down does not stop the others.
   */
  async pushDue(): Promise<number> {
    const now = this.clock.now();
    let pushed = 0;
    for (const state of this.components.values()) {
      if (state.cfg.eventUrl === undefined) continue;
      if (state.lastPushAt !== undefined && now - state.lastPushAt < TICKET_PUSH_INTERVAL_MS) {
        continue;
      }
      try {
        await this.pushTicket(state.cfg.appId);
        pushed += 1;
      } catch {
        // WeChat retries on its next 10-minute slot; so does the simulator.
      }
    }
    return pushed;
  }

  /** Forget tickets, tokens and push times (registrations stay). */
  reset(): void {
    for (const state of this.components.values()) {
      state.ticket = undefined;
      state.lastPushAt = undefined;
      state.tokens.clear();
    }
  }

  /** POST `plain` encrypted with the component's key, signed like every safe-mode push. */
  private post(
    cfg: SimComponentConfig,
    url: string,
    plain: string,
    createTime: number,
  ): Promise<Response> {
    const encrypted = encryptForPush(cfg.encodingAesKey, plain, cfg.appId);
    const timestamp = String(createTime);
    const nonce = String(randomBytes(4).readUInt32BE(0));
    const sha1 = (...parts: string[]) =>
      createHash('sha1').update(parts.sort().join('')).digest('hex');
    const target = new URL(url);
    target.searchParams.set('signature', sha1(cfg.token, timestamp, nonce));
    target.searchParams.set('timestamp', timestamp);
    target.searchParams.set('nonce', nonce);
    target.searchParams.set('encrypt_type', 'aes');
    target.searchParams.set('msg_signature', sha1(cfg.token, timestamp, nonce, encrypted));
    const body = `<xml><AppId><![CDATA[${cfg.appId}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
    return this.send(target.toString(), {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body,
    });
  }
}

/**
 * WeChat's push encryption, written here independently of the hub's code so the simulator checks
 * it: AES-256-CBC, key = base64(EncodingAESKey + '='), IV = key[0:16], PKCS#7 to 32 bytes, layout
 * `random(16) | length (u32 BE) | message | appid`.
 */
export function encryptForPush(encodingAesKey: string, message: string, appId: string): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([randomBytes(16), length, msg, Buffer.from(appId, 'utf8')]);
  const pad = 32 - (body.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([body, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}
