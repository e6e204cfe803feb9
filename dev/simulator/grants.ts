import type { SimClock } from './clock';
import { newLoginCode, newSessionKey, newTicket } from './ids';

/** Ticket types accepted by `/cgi-bin/ticket/getticket`. */
export type TicketType = 'jsapi' | 'wx_card';

/** A getticket success body. */
export interface TicketGrant {
  errcode: 0;
  errmsg: 'ok';
  ticket: string;
  expires_in: number;
}

/** A jscode2session success body. */
export interface SessionGrant {
  openid: string;
  session_key: string;
  unionid?: string;
}

/** Outcome of redeeming a js_code. */
export type RedeemResult =
  | { ok: true; session: SessionGrant }
  | { ok: false; errcode: 40029 | 40163 };

interface TicketRecord {
  ticket: string;
  expiresAt: number;
}

interface CodeRecord {
  appId: string;
  openid: string;
  unionid: string | undefined;
  expiresAt: number;
  used: boolean;
}

const TICKET_TTL_MS = 7200 * 1000;
const TICKET_RENEW_WINDOW_MS = 5 * 60 * 1000;
/** Lifetime of a wx.login code (forum-reported ~5 min). */
export const LOGIN_CODE_TTL_MS = 5 * 60 * 1000;

/** True when `value` is a ticket type getticket accepts. */
export function isTicketType(value: string | undefined): value is TicketType {
  return value === 'jsapi' || value === 'wx_card';
}

/**
 * jsapi / wx_card tickets and wx.login codes, per app.
 *
 * Ticket reuse: developers report (developers.weixin.qq.com/community, e.g. the thread
 * "jsapi_ticket有效期的问题" under community/personal/oCJUsw0priSC_ahTAAZHnXbCp07I/answer) that within
 * its validity getticket returns the **same** ticket and always reports `expires_in: 7200`, and
 * that an old ticket keeps working after a new one appears. We follow that: one ticket per app and
 * type, returned again while it has more than 5 min left, then replaced by a new one; expires_in
 * is always 7200. Tickets are independent of which access_token asked for them.
 */
export class GrantBook {
  private readonly tickets = new Map<string, TicketRecord>();
  private readonly codes = new Map<string, CodeRecord>();
  /** The session_key each user's latest login issued, by appid and openid. */
  private readonly sessionKeys = new Map<string, string>();

  constructor(private readonly clock: SimClock) {}

  /** The ticket for `appId`/`type`, reused while it has more than 5 minutes left. */
  ticket(appId: string, type: TicketType): TicketGrant {
    const now = this.clock.now();
    const key = `${appId}\u0000${type}`;
    let record = this.tickets.get(key);
    if (!record || record.expiresAt - now <= TICKET_RENEW_WINDOW_MS) {
      record = { ticket: newTicket(), expiresAt: now + TICKET_TTL_MS };
      this.tickets.set(key, record);
    }
    return { errcode: 0, errmsg: 'ok', ticket: record.ticket, expires_in: TICKET_TTL_MS / 1000 };
  }

  /** Mint a single-use js_code for `openid` of `appId`, valid 5 minutes of sim clock. */
  issueLoginCode(appId: string, openid: string, unionid?: string): string {
    let code = newLoginCode();
    while (this.codes.has(code)) code = newLoginCode();
    this.codes.set(code, {
      appId,
      openid,
      unionid,
      expiresAt: this.clock.now() + LOGIN_CODE_TTL_MS,
      used: false,
    });
    return code;
  }

  /**
   * Redeem a js_code for `appId`: 40029 when unknown, issued to another app or expired,
   * 40163 when already used. Success marks it used.
   */
  redeem(appId: string, code: string): RedeemResult {
    const record = this.codes.get(code);
    if (!record || record.appId !== appId) return { ok: false, errcode: 40029 };
    if (record.used) return { ok: false, errcode: 40163 };
    if (this.clock.now() >= record.expiresAt) return { ok: false, errcode: 40029 };
    record.used = true;
    const session: SessionGrant = { openid: record.openid, session_key: newSessionKey() };
    this.sessionKeys.set(`${appId}\u0000${record.openid}`, session.session_key);
    if (record.unionid !== undefined) session.unionid = record.unionid;
    return { ok: true, session };
  }

  /** The session_key of the user's latest login (a new login replaces it), if any. */
  sessionKey(appId: string, openid: string): string | undefined {
    return this.sessionKeys.get(`${appId}\u0000${openid}`);
  }

  /** Forget every ticket, code and session key. */
  reset(): void {
    this.tickets.clear();
    this.codes.clear();
    this.sessionKeys.clear();
  }
}
