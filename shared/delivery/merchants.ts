import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { AppError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AppRecord, CredentialKey, Store } from '../store';
import type { Fetcher, ServedCredential, TokenManager } from '../tokens/manager';
import {
  type DeliveryPlatform,
  MERCHANT_REFRESH_KIND,
  MERCHANT_TOKEN_KIND,
  merchantOwner,
} from './owners';

/**
 * What the delivery platforms share: the merchant directory (`platform_merchants`), merchant
 * tokens and refresh tokens sealed in `credentials` and served by the credential manager, and the
 * exchange of an authorization code exactly once.
 */

export interface MerchantDeps {
  store: Store;
  clock: Clock;
  tokens: TokenManager;
  log: Logger;
  instanceId: string;
}

/** A merchant key as the URLs carry it (no `:`, which the owner column uses as separator). */
export const MERCHANT_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** 400 unless `merchant` is a merchant key. */
export function requireMerchantKey(merchant: string, what: string): void {
  if (!MERCHANT_KEY.test(merchant)) {
    throw new AppError('BAD_REQUEST', `${what} must be 1 to 64 letters, digits, _ or -`);
  }
}

/** 400 unless `app` is of `kind`; 409 when its appSecret is missing or does not open. */
export function requireKind(app: AppRecord, kind: DeliveryPlatform): string {
  if (app.kind !== kind) {
    throw new AppError('BAD_REQUEST', `app "${app.name}" is a ${app.kind} app, not ${kind}`);
  }
  const bad = app.unreadable?.find((u) => u.column === 'apps.app_secret');
  if (bad !== undefined) throw new AppError(bad.code, bad.message);
  if (app.appSecret === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no appSecret configured`);
  }
  return app.appSecret;
}

export const tokenKey = (p: DeliveryPlatform, app: AppRecord, merchant: string): CredentialKey => ({
  owner: merchantOwner(p, app.name, merchant),
  kind: MERCHANT_TOKEN_KIND,
});
export const refreshKey = (
  p: DeliveryPlatform,
  app: AppRecord,
  merchant: string,
): CredentialKey => ({ owner: merchantOwner(p, app.name, merchant), kind: MERCHANT_REFRESH_KIND });

/** Tokens a platform issued for a merchant (seconds of life as the platform said). */
export interface MerchantTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string | undefined;
  /** Seconds; absent: the refresh token has no known end. */
  refreshExpiresIn?: number | undefined;
}

/** Rows that do not expire carry this far-future expiry (never selected by the refresh pass). */
export const NO_EXPIRY = Date.UTC(9999, 0, 1);

const leaseOwnerOf = (deps: { instanceId: string }) =>
  `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stores an authorization: the refresh token (sealed, no lease: it is only read under the access
 * token's lease), the access token written under its own lease (so `refreshedAt` says when the
 * platform issued it), and the merchant marked authorized.
 */
export async function storeAuthorization(
  deps: MerchantDeps,
  p: DeliveryPlatform,
  app: AppRecord,
  merchant: string,
  t: MerchantTokens,
): Promise<void> {
  const creds = deps.store.credentials;
  const now = deps.clock.now();
  if (t.refreshToken !== undefined) {
    const expiresAt =
      t.refreshExpiresIn === undefined ? NO_EXPIRY : now + t.refreshExpiresIn * 1000;
    await creds.put(refreshKey(p, app, merchant), { value: t.refreshToken, expiresAt }, now);
  }
  const key = tokenKey(p, app, merchant);
  await creds.ensure(key, now);
  const owner = leaseOwnerOf(deps);
  let saved = false;
  for (let i = 0; i < 50 && !saved; i++) {
    if (await creds.claimLease(key, owner, deps.clock.now(), 10_000)) {
      const value = { value: t.accessToken, expiresAt: now + t.expiresIn * 1000 };
      saved = await creds.saveValue(key, owner, value, deps.clock.now());
    } else await pause(100);
  }
  if (!saved) throw new AppError('UNAVAILABLE', 'the merchant token is being refreshed; retry');
  deps.tokens.forget(key);
  await deps.store.platformMerchants.markAuthorized(app.name, p, merchant, now);
  deps.log.info({ app: app.name, platform: p, merchant }, 'merchant authorized');
}

/** 404 for a merchant that never authorized `app`, 410 `REVOKED` after it was revoked. */
export async function assertMerchant(
  deps: Pick<MerchantDeps, 'store'>,
  app: AppRecord,
  merchant: string,
): Promise<void> {
  const row = MERCHANT_KEY.test(merchant)
    ? await deps.store.platformMerchants.get(app.name, merchant)
    : undefined;
  if (row === undefined) {
    throw new AppError(
      'NOT_FOUND',
      `merchant "${merchant.slice(0, 64)}" has not authorized "${app.name}"`,
    );
  }
  if (row.status === 'revoked') {
    throw new AppError(
      'REVOKED',
      `merchant "${merchant}" revoked its authorization of "${app.name}"`,
    );
  }
}

/** Serves a merchant's access token through the credential manager (refreshed when due). */
export async function merchantAccessToken(
  deps: MerchantDeps,
  p: DeliveryPlatform,
  app: AppRecord,
  merchant: string,
  fetcher: Fetcher,
): Promise<ServedCredential> {
  await assertMerchant(deps, app, merchant);
  return deps.tokens.get(tokenKey(p, app, merchant), fetcher);
}

/** The stored refresh token, or a 409 saying the merchant must authorize again. */
export async function storedRefreshToken(
  deps: Pick<MerchantDeps, 'store' | 'clock'>,
  p: DeliveryPlatform,
  app: AppRecord,
  merchant: string,
): Promise<string> {
  const row = await deps.store.credentials.get(refreshKey(p, app, merchant));
  if (row?.value === undefined || (row.expiresAt ?? 0) <= deps.clock.now()) {
    throw new AppError(
      'CONFLICT',
      `merchant "${merchant}" of "${app.name}" has no valid refresh token; it must authorize again`,
    );
  }
  return row.value;
}

/** Credential kind of the row that makes an authorization code's exchange happen once. */
const CODE_KIND = 'authorization_code';

/**
 * Runs `exchange` for an authorization code exactly once across deliveries and instances: a lease
 * on a row keyed by the code's hash (`authcode:<app>:<sha256>`, purged a day later with the
 * component codes) lets one caller exchange; the others wait briefly and answer its merchant. A
 * failed exchange removes the row, so a redelivery tries again.
 */
export async function exchangeOnce(
  deps: MerchantDeps,
  app: AppRecord,
  code: string,
  exchange: () => Promise<string>,
): Promise<{ merchant: string; exchanged: boolean }> {
  const creds = deps.store.credentials;
  const hash = createHash('sha256').update(code).digest('hex');
  const key = { owner: `authcode:${app.name}:${hash}`, kind: CODE_KIND };
  const owner = leaseOwnerOf(deps);
  for (let i = 0; ; i++) {
    await creds.ensure(key, deps.clock.now());
    if (await creds.claimLease(key, owner, deps.clock.now(), 30_000)) break;
    const done = (await creds.get(key))?.value;
    if (done !== undefined) return { merchant: done, exchanged: false };
    if (i >= 50) throw new AppError('UNAVAILABLE', 'the authorization is still being completed');
    await pause(100);
  }
  const done = (await creds.get(key))?.value;
  if (done !== undefined) {
    await creds.releaseLease(key, owner);
    return { merchant: done, exchanged: false };
  }
  let merchant: string;
  try {
    merchant = await exchange();
  } catch (err) {
    await creds.removeLeased(key, owner).catch(() => false);
    throw err;
  }
  await creds.saveValue(key, owner, { value: merchant, expiresAt: NO_EXPIRY }, deps.clock.now());
  return { merchant, exchanged: true };
}
