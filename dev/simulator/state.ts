import type { SimClock } from './clock';
import { isTokenShaped, newAccessToken } from './ids';

/** Registration of one simulated WeChat account. */
export interface SimAppConfig {
  appId: string;
  secret: string;
  /** When present the caller IP must be listed, or token endpoints answer 40164. `[]` blocks all. */
  ipWhitelist?: string[];
}

/** Which token endpoint issued a token. The two families never affect each other. */
export type TokenKind = 'classic' | 'stable';

/** Everything the simulator remembers about one issued access token. */
export interface TokenRecord {
  token: string;
  appId: string;
  kind: TokenKind;
  issuedAt: number;
  expiresAt: number;
  /** Instant the token was (or will be) killed before its expiry; `Infinity` when never. */
  deadAt: number;
}

/** A successful token grant as WeChat returns it. */
export interface TokenGrant {
  access_token: string;
  expires_in: number;
}

/** Outcome of checking an `access_token` parameter. */
export type TokenCheck =
  | { ok: true; appId: string; record: TokenRecord }
  | { ok: false; errcode: 41001 | 40014 | 40001 | 42001 };

/** Outcome of a stable_token request after credential checks. */
export type StableResult = { ok: true; grant: TokenGrant } | { ok: false; errcode: 45009 | 45011 };

/** Token lifetime WeChat grants (7200 s). */
export const TOKEN_TTL_MS = 7200 * 1000;
/** Overlap / early-rotation window (5 min). */
export const ROTATION_WINDOW_MS = 5 * 60 * 1000;
/** Minimum spacing between two force_refresh calls of one app (30 s). */
export const FORCE_SPACING_MS = 30 * 1000;
/** Maximum force_refresh calls per app per day. */
export const FORCE_DAILY_LIMIT = 20;

const DAY_MS = 24 * 60 * 60 * 1000;
const UTC8_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Calendar day number in UTC+8 (China Standard Time), used for daily quotas. */
export function chinaDay(nowMs: number): number {
  return Math.floor((nowMs + UTC8_OFFSET_MS) / DAY_MS);
}

interface ForceQuota {
  day: number;
  count: number;
  lastAt: number;
}

/**
 * Access-token rules of `/cgi-bin/token` and `/cgi-bin/stable_token`, driven by a {@link SimClock}.
 * Pure in-memory logic, no HTTP.
 */
export class TokenBook {
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly classicLive = new Map<string, TokenRecord[]>();
  private readonly stableCurrent = new Map<string, TokenRecord>();
  private readonly forceQuota = new Map<string, ForceQuota>();

  constructor(private readonly clock: SimClock) {}

  /**
   * Classic getAccessToken: always a new 7200 s token. Every earlier classic token of the app
   * dies 5 minutes from now, or at its own expiry if that comes first.
   */
  issueClassic(appId: string): TokenGrant {
    const now = this.clock.now();
    const live = (this.classicLive.get(appId) ?? []).filter((t) => isAlive(t, now));
    for (const old of live) old.deadAt = Math.min(old.deadAt, now + ROTATION_WINDOW_MS);
    const record = this.mint(appId, 'classic', now);
    live.push(record);
    this.classicLive.set(appId, live);
    return { access_token: record.token, expires_in: TOKEN_TTL_MS / 1000 };
  }

  /**
   * getStableAccessToken. Normal mode reuses the current token while it has more than 5 min left
   * (the old one then lives on until its own expiry). Force mode is limited and kills at once.
   */
  stable(appId: string, force: boolean): StableResult {
    const now = this.clock.now();
    if (force) return this.forceStable(appId, now);
    const current = this.stableCurrent.get(appId);
    if (current && isAlive(current, now) && current.expiresAt - now > ROTATION_WINDOW_MS) {
      return { ok: true, grant: grantOf(current, now) };
    }
    const record = this.mint(appId, 'stable', now);
    this.stableCurrent.set(appId, record);
    return { ok: true, grant: grantOf(record, now) };
  }

  /**
   * force_refresh: the official docs say it "会导致上次获取的 access_token 失效" (invalidates the
   * previously obtained token) and name no grace period, unlike the 5-minute overlap they spell out
   * for classic tokens; Douyin's clone of this API says "立即失效" (immediately). So every live
   * stable token of the app dies now (the stricter reading).
   * Limits ("强制刷新模式每天限用20次且需间隔30秒"): the daily cap answers 45009 (forum-reported,
   * listed in the API's error table). No source shows what WeChat answers inside the 30 s spacing
   * (the mini-game page only says "否则不会刷新", i.e. it will not refresh), so we answer 45011, the
   * table's per-frequency code, and never issue a token.
   */
  private forceStable(appId: string, now: number): StableResult {
    const day = chinaDay(now);
    const prev = this.forceQuota.get(appId);
    const lastAt = prev?.lastAt ?? Number.NEGATIVE_INFINITY;
    const quota = prev && prev.day === day ? prev : { day, count: 0, lastAt };
    if (quota.count >= FORCE_DAILY_LIMIT) return { ok: false, errcode: 45009 };
    if (now - quota.lastAt < FORCE_SPACING_MS) {
      return { ok: false, errcode: 45011 };
    }
    for (const t of this.tokens.values()) {
      if (t.appId === appId && t.kind === 'stable' && isAlive(t, now)) t.deadAt = now;
    }
    const record = this.mint(appId, 'stable', now);
    this.stableCurrent.set(appId, record);
    this.forceQuota.set(appId, { day, count: quota.count + 1, lastAt: now });
    return { ok: true, grant: grantOf(record, now) };
  }

  /** Classify an `access_token` value: 41001 missing, 40014 malformed, 40001 unknown/killed, 42001 expired. */
  check(token: string | undefined): TokenCheck {
    if (token === undefined || token === '') return { ok: false, errcode: 41001 };
    if (!isTokenShaped(token)) return { ok: false, errcode: 40014 };
    const record = this.tokens.get(token);
    if (!record) return { ok: false, errcode: 40001 };
    const now = this.clock.now();
    const killed = record.deadAt < record.expiresAt && now >= record.deadAt;
    if (killed) return { ok: false, errcode: 40001 };
    if (now >= record.expiresAt) return { ok: false, errcode: 42001 };
    return { ok: true, appId: record.appId, record };
  }

  /** The app a token was issued to, valid or not; undefined for tokens never issued. */
  ownerOf(token: string | undefined): string | undefined {
    return token === undefined ? undefined : this.tokens.get(token)?.appId;
  }

  /** True when the token works right now (any app, classic or stable). */
  isValid(token: string): boolean {
    return this.check(token).ok;
  }

  /** Kills a live token now (40001 from then on); false for a token never issued. */
  kill(token: string): boolean {
    const record = this.tokens.get(token);
    if (!record) return false;
    record.deadAt = Math.min(record.deadAt, this.clock.now());
    return true;
  }

  /** Forget every token and force-refresh quota. */
  reset(): void {
    this.tokens.clear();
    this.classicLive.clear();
    this.stableCurrent.clear();
    this.forceQuota.clear();
  }

  private mint(appId: string, kind: TokenKind, now: number): TokenRecord {
    let token = newAccessToken();
    while (this.tokens.has(token)) token = newAccessToken();
    const record: TokenRecord = {
      token,
      appId,
      kind,
      issuedAt: now,
      expiresAt: now + TOKEN_TTL_MS,
      deadAt: Number.POSITIVE_INFINITY,
    };
    this.tokens.set(token, record);
    return record;
  }
}

function isAlive(t: TokenRecord, now: number): boolean {
  return now < t.expiresAt && now < t.deadAt;
}

function grantOf(t: TokenRecord, now: number): TokenGrant {
  return { access_token: t.token, expires_in: Math.floor((t.expiresAt - now) / 1000) };
}
