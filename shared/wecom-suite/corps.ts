import { randomBytes } from 'node:crypto';
import {
  AUTHORIZATION_CODE_KIND,
  AUTHORIZER_STATUS_KIND,
  authorizationCodeOwner,
  authorizerOwner,
  NO_EXPIRY,
} from '../component/authorizers';
import { AppError, WechatApiError } from '../http/errors';
import type { Logger } from '../http/log';
import type { AppRecord, CredentialKey } from '../store';
import { guardedInvalidate, type InvalidateResult } from '../tokens/app-tokens';
import type { RefreshGuard } from '../tokens/force-guard';
import type { Fetcher, ServedCredential } from '../tokens/manager';
import type { IssuedCredential } from '../wechat/credentials';
import { callWechatJson, WechatTransportError } from '../wechat/http';
import { issuedOf, requireSuite, type SuiteDeps, withSuiteToken } from './suite';

/**
 * The corps that installed a suite. An install gives a single-use `auth_code` (10 minutes), in
 * the `create_auth` push (installs from WeCom's app market) or on the install redirect (installs
 * from the provider's site); whichever comes first exchanges it with v2 `get_permanent_code`
 * (https://developer.work.weixin.qq.com/document/path/100776), which answers the corp and its
 * permanent code but no token, so `get_corp_token` follows
 * (https://developer.work.weixin.qq.com/document/path/90605). Corps reuse the third-party
 * platform's machinery: credential owner `authorizer:<suite>:<corpid>`, the `authorizers` table
 * as the directory (app = the suite), the code rows of `authcode:<suite>:<sha256>`.
 */

export const PERMANENT_CODE_PATH = '/cgi-bin/service/v2/get_permanent_code';
export const CORP_TOKEN_PATH = '/cgi-bin/service/get_corp_token';
/** Credential kinds of a corp (owner {@link authorizerOwner}). */
export const PERMANENT_CODE_KIND = 'corp_permanent_code';
export const CORP_TOKEN_KIND = 'corp_access_token';
/** Every credential kind of a corp that holds a secret (cleared by `cancel_auth`). */
export const CORP_SECRET_KINDS = [CORP_TOKEN_KIND, PERMANENT_CODE_KIND] as const;
/** WeCom's errcodes for a corp token that is not (or no longer) valid. */
export const STALE_CORP_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40014, 42001]);
/** 40078: the auth code is invalid, used or expired. */
const AUTH_CODE_INVALID = 40078;
const REVOKED = 'revoked';
/** Code-row values: a code kept for its exchange, or the corp it was exchanged for. */
const PENDING = 'pending:';
const DONE = 'corp:';
/** WeCom's auth codes are valid 10 minutes. */
export const AUTH_CODE_TTL_MS = 600_000;
/** auth_code: 64 to 512 bytes (https://developer.work.weixin.qq.com/document/path/90597). */
const AUTH_CODE = /^[A-Za-z0-9@_.+/=-]{8,512}$/;
/** A corpid fit for an owner (no `:`). */
const CORP_ID = /^[A-Za-z0-9_-]{1,64}$/;

const EXCHANGE_LEASE_MS = 30_000;
const WRITE_LEASE_MS = 10_000;
const WAIT_POLLS = 50;
const POLL_MS = 100;
const pause = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));

/** What corp handling needs: suite deps, a log and the instance id (lease owners). */
export interface CorpDeps extends SuiteDeps {
  log: Logger;
  instanceId: string;
}

const leaseOwnerOf = (deps: { instanceId: string }) =>
  `${deps.instanceId}:${randomBytes(6).toString('hex')}`;

const corpKey = (app: AppRecord, corpId: string, kind: string): CredentialKey => ({
  owner: authorizerOwner(app, corpId),
  kind,
});

const codeKeyOf = (app: AppRecord, code: string): CredentialKey => ({
  owner: authorizationCodeOwner(app, code),
  kind: AUTHORIZATION_CODE_KIND,
});

/** 400 for a missing or malformed code (nothing stored). */
export function checkAuthCode(code: string | undefined): string {
  if (code === undefined || !AUTH_CODE.test(code)) {
    throw new AppError('BAD_REQUEST', 'auth_code is missing or malformed');
  }
  return code;
}

/** 400 for a corpid that cannot be one. */
export function checkCorpId(corpId: string): string {
  if (!CORP_ID.test(corpId)) throw new AppError('BAD_REQUEST', 'corpid is malformed');
  return corpId;
}

/**
 * Keeps a pushed `create_auth` code (sealed, 10 minutes) so that its exchange survives the
 * answer: the push is answered at once and the code exchanged after, by this instance or, if it
 * stops, by the next refresh pass. A code exchanged (or being exchanged) already is left alone.
 */
export async function keepPendingCode(deps: CorpDeps, app: AppRecord, code: string): Promise<void> {
  const creds = deps.store.credentials;
  const key = codeKeyOf(app, checkAuthCode(code));
  const owner = leaseOwnerOf(deps);
  const now = deps.clock.now();
  await creds.ensure(key, now);
  if (!(await creds.claimLease(key, owner, now, WRITE_LEASE_MS))) return;
  const row = await creds.get(key);
  if (row?.value !== undefined) {
    await creds.releaseLease(key, owner);
    return;
  }
  // It was minted before it was pushed: kept a minute less than its 10 minutes, which also puts
  // it inside the refresh pass's selection window at once.
  await creds.saveValue(
    key,
    owner,
    { value: `${PENDING}${code}`, expiresAt: now + AUTH_CODE_TTL_MS - 60_000 },
    now,
  );
}

/** What {@link exchangeAuthCode} did. */
export type CorpExchange =
  | { outcome: 'exchanged'; corpId: string; state: string | undefined }
  | { outcome: 'done'; corpId: string }
  | { outcome: 'busy' };

interface PermanentCodeAnswer {
  permanent_code?: unknown;
  auth_corp_info?: { corpid?: unknown; corp_name?: unknown };
  state?: unknown;
}

/**
 * Exchanges an auth code exactly once, whichever of the push's deliveries, the redirect and the
 * refresh pass comes first: a lease on the code's row lets one caller exchange; a push that loses
 * returns at once, a redirect waits briefly for the winner. A code exchanged before is a no-op
 * naming its corp. The permanent code is sealed and the corp token fetched right after (under
 * the credential lease). A failed exchange keeps a pending code for the next try; 40078 (used or
 * expired) drops it.
 */
export async function exchangeAuthCode(
  deps: CorpDeps,
  app: AppRecord,
  code: string,
  source: 'push' | 'redirect',
): Promise<CorpExchange> {
  requireSuite(app);
  const creds = deps.store.credentials;
  const key = codeKeyOf(app, checkAuthCode(code));
  const owner = leaseOwnerOf(deps);
  for (let i = 0; ; i++) {
    await creds.ensure(key, deps.clock.now());
    if (await creds.claimLease(key, owner, deps.clock.now(), EXCHANGE_LEASE_MS)) break;
    const v = (await creds.get(key))?.value;
    if (v?.startsWith(DONE)) return { outcome: 'done', corpId: v.slice(DONE.length) };
    if (source === 'push') return { outcome: 'busy' };
    if (i >= WAIT_POLLS) {
      throw new AppError('UNAVAILABLE', 'the installation is still being completed; reload');
    }
    await pause();
  }
  let corpId: string;
  let state: string | undefined;
  const before = (await creds.get(key))?.value;
  try {
    if (before?.startsWith(DONE)) {
      await creds.releaseLease(key, owner);
      return { outcome: 'done', corpId: before.slice(DONE.length) };
    }
    const startedAt = deps.clock.now();
    const r = await withSuiteToken(deps, app, (suiteToken) =>
      callWechatJson<PermanentCodeAnswer>(
        deps.wecom,
        PERMANENT_CODE_PATH,
        { suite_access_token: suiteToken },
        { method: 'POST', json: { auth_code: code } },
      ),
    );
    const permanent = typeof r.permanent_code === 'string' ? r.permanent_code : '';
    const id = typeof r.auth_corp_info?.corpid === 'string' ? r.auth_corp_info.corpid : '';
    if (permanent === '' || !CORP_ID.test(id)) {
      throw new WechatTransportError(
        PERMANENT_CODE_PATH,
        'answered without corpid or permanent_code',
      );
    }
    corpId = id;
    state = typeof r.state === 'string' && r.state !== '' ? r.state : undefined;
    const name = r.auth_corp_info?.corp_name;
    await storeCorp(
      deps,
      app,
      corpId,
      permanent,
      startedAt,
      typeof name === 'string' ? name : undefined,
    );
  } catch (err) {
    const spent = err instanceof WechatApiError && err.errcode === AUTH_CODE_INVALID;
    if (spent || !before?.startsWith(PENDING)) {
      await creds.removeLeased(key, owner).catch(() => false);
    } else {
      await creds.releaseLease(key, owner).catch(() => false);
    }
    throw err;
  }
  await creds.saveValue(
    key,
    owner,
    { value: `${DONE}${corpId}`, expiresAt: NO_EXPIRY },
    deps.clock.now(),
  );
  // v2 answers no token: the corp token now, once across instances (its lease).
  await corpAccessToken(deps, app, corpId).catch((err: unknown) => {
    deps.log.warn(
      { app: app.name, corp: corpId, error: err instanceof Error ? err.message : 'failed' },
      'corp token after the install failed; fetched on first use',
    );
  });
  return { outcome: 'exchanged', corpId, state };
}

/** Takes a corp's status lease (polling a while); 503 when it stays taken. */
async function claimStatus(deps: CorpDeps, app: AppRecord, corpId: string) {
  const key = corpKey(app, corpId, AUTHORIZER_STATUS_KIND);
  const owner = leaseOwnerOf(deps);
  await deps.store.credentials.ensure(key, deps.clock.now());
  for (let i = 0; i <= WAIT_POLLS; i++) {
    if (await deps.store.credentials.claimLease(key, owner, deps.clock.now(), WRITE_LEASE_MS)) {
      return { key, owner };
    }
    if (i < WAIT_POLLS) await pause();
  }
  throw new AppError('UNAVAILABLE', 'the corp is being updated; WeCom will retry');
}

/**
 * Writes an installed corp under its status lease (the one `cancel_auth` takes): the permanent
 * code sealed, the status and the directory entry. A `cancel_auth` stored after the exchange
 * began wins: nothing is written.
 */
async function storeCorp(
  deps: CorpDeps,
  app: AppRecord,
  corpId: string,
  permanent: string,
  startedAt: number,
  corpName: string | undefined,
): Promise<void> {
  const creds = deps.store.credentials;
  const status = await claimStatus(deps, app, corpId);
  try {
    const row = await creds.get(status.key);
    if (row?.value === REVOKED && (row.refreshedAt ?? 0) > startedAt) {
      await creds.releaseLease(status.key, status.owner);
      deps.log.info({ app: app.name, corp: corpId }, 'cancelled while its code was exchanged');
      return;
    }
    const now = deps.clock.now();
    await creds.put(
      corpKey(app, corpId, PERMANENT_CODE_KIND),
      { value: permanent, expiresAt: NO_EXPIRY },
      now,
    );
    // A token of an earlier install was fetched with the old permanent code: fetched anew.
    const tokenKey = corpKey(app, corpId, CORP_TOKEN_KIND);
    await creds.ensure(tokenKey, now);
    await creds.dropValue(tokenKey, now);
    deps.tokens.forget(tokenKey);
    const saved = await creds.saveValue(
      status.key,
      status.owner,
      { value: 'authorized', expiresAt: NO_EXPIRY },
      now,
    );
    if (!saved) throw new AppError('UNAVAILABLE', 'the corp status lease was lost; retried');
  } catch (err) {
    await creds.releaseLease(status.key, status.owner).catch(() => false);
    throw err;
  }
  const now = deps.clock.now();
  await deps.store.authorizers.markAuthorized(
    app.name,
    corpId,
    {
      authorizedAt: now,
      funcInfo: [],
      ...(corpName === undefined ? {} : { nickName: corpName.slice(0, 191) }),
    },
    now,
  );
  deps.log.info({ app: app.name, corp: corpId }, 'corp installed the suite');
}

/**
 * `cancel_auth`: under the corp's status lease its token and permanent code are cleared (no
 * secret of the corp stays in the database), it is marked revoked, and its routes answer 410.
 */
export async function cancelCorp(deps: CorpDeps, app: AppRecord, corpId: string): Promise<void> {
  checkCorpId(corpId);
  const creds = deps.store.credentials;
  const status = await claimStatus(deps, app, corpId);
  try {
    const now = deps.clock.now();
    for (const kind of CORP_SECRET_KINDS) {
      const key = corpKey(app, corpId, kind);
      // A refresh under way (the pass's batch) cannot write its token back: its lease is gone.
      await creds.dropValue(key, now);
      deps.tokens.forget(key);
    }
    await creds.saveValue(status.key, status.owner, { value: REVOKED, expiresAt: NO_EXPIRY }, now);
  } catch (err) {
    await creds.releaseLease(status.key, status.owner).catch(() => false);
    throw err;
  }
  await deps.store.authorizers.markRevoked(app.name, corpId, deps.clock.now());
  deps.log.info({ app: app.name, corp: corpId }, 'corp cancelled the suite');
}

/** 404 for a corp the suite never had, 410 REVOKED after `cancel_auth`. */
export async function assertCorp(deps: Pick<SuiteDeps, 'store'>, app: AppRecord, corpId: string) {
  requireSuite(app);
  checkCorpId(corpId);
  const status = await deps.store.credentials.get(corpKey(app, corpId, AUTHORIZER_STATUS_KIND));
  if (status?.value === REVOKED) {
    throw new AppError('REVOKED', `corp ${corpId} cancelled its authorization of "${app.name}"`);
  }
  if (status?.value === undefined) {
    throw new AppError('NOT_FOUND', `"${app.name}" has no corp ${corpId}`);
  }
}

/** 410 for a corp without a permanent code (cancelled): nothing is asked of WeCom. */
export function noPermanentCode(corpId: string): AppError {
  return new AppError('REVOKED', `corp ${corpId} has no permanent code (cancelled)`);
}

/**
 * One `get_corp_token` with the corp's permanent code and the suite token (`suiteToken` when the
 * caller had it already: the refresh pass has it once per batch of corps).
 */
export async function requestCorpToken(
  deps: SuiteDeps,
  app: AppRecord,
  corpId: string,
  permanent: string,
  suiteToken?: string,
): Promise<IssuedCredential> {
  const r = await withSuiteToken(
    deps,
    app,
    (token) =>
      callWechatJson<{ access_token?: unknown; expires_in?: unknown }>(
        deps.wecom,
        CORP_TOKEN_PATH,
        { suite_access_token: token },
        { method: 'POST', json: { auth_corpid: corpId, permanent_code: permanent } },
      ),
    suiteToken,
  );
  return issuedOf(CORP_TOKEN_PATH, r.access_token, r.expires_in);
}

/** Fetches a corp token with the sealed permanent code (`get_corp_token`, suite token). */
export function corpTokenFetcher(deps: SuiteDeps, app: AppRecord, corpId: string): Fetcher {
  return async () => {
    const permanent = (await deps.store.credentials.get(corpKey(app, corpId, PERMANENT_CODE_KIND)))
      ?.value;
    if (permanent === undefined) throw noPermanentCode(corpId);
    return requestCorpToken(deps, app, corpId, permanent);
  };
}

/** The credential key of a corp token. */
export const corpTokenKey = (app: AppRecord, corpId: string) =>
  corpKey(app, corpId, CORP_TOKEN_KIND);

/** A corp token through the credential manager: one `get_corp_token` per lifetime. */
export async function corpAccessToken(
  deps: SuiteDeps,
  app: AppRecord,
  corpId: string,
): Promise<ServedCredential> {
  await assertCorp(deps, app, corpId);
  return deps.tokens.get(corpTokenKey(app, corpId), corpTokenFetcher(deps, app, corpId));
}

/** The exchange of a code kept by {@link keepPendingCode} (the refresh pass's retry). */
export async function exchangePending(
  deps: CorpDeps,
  app: AppRecord,
  key: CredentialKey,
): Promise<boolean> {
  const v = (await deps.store.credentials.get(key))?.value;
  if (!v?.startsWith(PENDING)) return false;
  const r = await exchangeAuthCode(deps, app, v.slice(PENDING.length), 'push');
  return r.outcome === 'exchanged';
}

/** Corp-token refreshes reported by a failing proxied call: spaced per corp. */
export const CORP_REFRESH_GUARD: RefreshGuard = {
  kind: 'corp_refresh_budget',
  what: 'corp token refresh',
  rule: 'the hub allows one refresh reported by callers per 30 s per corp',
  spacingMs: 30_000,
  dailyLimit: 1_000,
};

/** Compare-and-refresh of a corp token a caller saw fail (404/410 as its token route). */
export async function invalidateCorpToken(
  deps: SuiteDeps,
  app: AppRecord,
  corpId: string,
  presented: string,
): Promise<InvalidateResult> {
  await assertCorp(deps, app, corpId);
  const fetcher = corpTokenFetcher(deps, app, corpId);
  return guardedInvalidate(deps, corpTokenKey(app, corpId), presented, {
    guard: CORP_REFRESH_GUARD,
    refetch: () => fetcher(undefined),
    current: fetcher,
  });
}
