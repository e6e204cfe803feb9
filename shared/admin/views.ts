import { targetForLog } from '../callbacks/forward';
import { AUTH_EVENT_SECRETS } from '../component/component';
import { redactUrls } from '../http/log';
import type {
  AppRecord,
  CallbackMessageRecord,
  CredentialRecord,
  DeliveryRecord,
  MerchantRecord,
  PayNotificationRecord,
} from '../store';

// What the admin API answers for each record (docs/api.md, "Admin API"): never a secret value,
// never a full token; times as ISO-8601 UTC.

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

/**
 * A credential value as the console shows it: at most its first and last 4 characters
 * (`abcd…wxyz`); values of 12 characters or fewer show `…` only, absent ones `null`.
 */
export function mask(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.length <= 12) return '…';
  return `${value.slice(0, 4)}…${value.slice(-4)}`;
}

/**
 * A URL as the console shows it: `scheme://host/path` only (user info, query and fragment may
 * carry credentials), with booleans saying whether user info or a query (or fragment) was hidden.
 */
export function urlView(url: string): { url: string; hasUserInfo: boolean; hasQuery: boolean } {
  try {
    const u = new URL(url);
    return {
      url: targetForLog(url),
      hasUserInfo: u.username !== '' || u.password !== '',
      hasQuery: u.search !== '' || u.hash !== '',
    };
  } catch {
    return {
      url: targetForLog(url),
      hasUserInfo: /^[^/]*\/\/[^/?#]*@/.test(url),
      hasQuery: /[?#]/.test(url),
    };
  }
}

/** Forward rules as the console shows them: each target through {@link urlView}. */
export function forwardView<R extends { url: string }>(rules: readonly R[]) {
  return rules.map((r) => ({ ...r, ...urlView(r.url) }));
}

/** An app without its secrets: booleans say which are set. */
export function appView(a: AppRecord) {
  return {
    name: a.name,
    kind: a.kind,
    appId: a.appId,
    source: a.source,
    enabled: a.enabled,
    tokenMode: a.tokenMode,
    messageMode: a.messageMode,
    forward: forwardView(a.forward),
    authRedirectUrl: a.authRedirectUrl === undefined ? null : urlView(a.authRedirectUrl).url,
    authRedirectUrlHidden:
      a.authRedirectUrl === undefined
        ? false
        : urlView(a.authRedirectUrl).hasQuery || urlView(a.authRedirectUrl).hasUserInfo,
    oauthRedirects: a.oauthRedirects ?? [],
    oauthComponent: a.oauthComponent ?? null,
    secrets: {
      appSecret: a.appSecret !== undefined || has(a, 'apps.app_secret'),
      token: a.token !== undefined || has(a, 'apps.callback_token'),
      encodingAesKey: a.encodingAesKey !== undefined || has(a, 'apps.encoding_aes_key'),
    },
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

/** A merchant without its API v3 key and private key: booleans say they are set. */
export function merchantView(m: MerchantRecord) {
  return {
    name: m.name,
    mchId: m.mchId,
    appId: m.appId ?? null,
    serialNo: m.serialNo,
    publicKeyId: m.publicKeyId ?? null,
    platformCertificates: m.platformCertificates.map((c) => ({ serialNo: c.serialNo })),
    forward: forwardView(m.forward),
    source: m.source,
    enabled: m.enabled,
    secrets: {
      apiV3Key: m.apiV3Key !== '' || has(m, 'merchants.api_v3_key'),
      privateKey: m.privateKey !== '' || has(m, 'merchants.private_key'),
    },
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

/** A sealed column that is set but did not open still counts as set. */
const has = (r: { unreadable?: { column: string }[] | undefined }, column: string) =>
  r.unreadable?.some((u) => u.column === column) === true;

const lastError = (c: CredentialRecord) =>
  c.lastError === undefined ? null : { message: c.lastError, at: iso(c.lastErrorAt) };

/** A credential row, its value masked. */
export function credentialView(c: CredentialRecord) {
  return {
    owner: c.owner,
    kind: c.kind,
    masked: mask(c.value),
    expiresAt: iso(c.expiresAt),
    version: c.version,
    refreshedAt: iso(c.refreshedAt),
    lastError: lastError(c),
  };
}

/** A credential's freshness at `now` (the dashboard): no value at all. */
export function freshnessView(c: CredentialRecord, now: number) {
  return {
    owner: c.owner,
    kind: c.kind,
    expiresAt: iso(c.expiresAt),
    expiresInSeconds:
      c.expiresAt === undefined ? null : Math.max(0, Math.floor((c.expiresAt - now) / 1000)),
    refreshedAt: iso(c.refreshedAt),
    lastError: lastError(c),
    failures: c.failures,
    leaseHolder: c.leaseUntil !== undefined && c.leaseUntil > now ? (c.leaseOwner ?? null) : null,
    leaseUntil: c.leaseUntil !== undefined && c.leaseUntil > now ? iso(c.leaseUntil) : null,
  };
}

/** One row of the message list. */
export function messageView(m: CallbackMessageRecord) {
  return {
    id: m.id,
    app: m.app,
    authorizerAppId: m.authorizerAppid ?? null,
    msgType: m.msgType ?? null,
    event: m.event ?? null,
    fromUser: m.fromUser ?? null,
    receivedAt: iso(m.receivedAt),
    encrypted: m.encrypted,
  };
}

/** A third-party platform's credential in a body stored in plain or compatible mode. */
const SECRETS_IN_BODY = Object.entries(AUTH_EVENT_SECRETS).flatMap(([name, placeholder]) => [
  [new RegExp(`(<${name}>)[\\s\\S]*?(</${name}>)`, 'g'), `$1${placeholder}$2`] as const,
  [new RegExp(`("${name}"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*(")`, 'g'), `$1${placeholder}$2`] as const,
]);

/**
 * One message with its parsed fields, its body as stored and the answer given. An auth event's
 * ticket, authorization code or pre-auth code (redacted in the stored fields) is redacted in a
 * plaintext body too.
 */
export function messageDetail(m: CallbackMessageRecord) {
  let raw = m.raw;
  for (const [pattern, placeholder] of SECRETS_IN_BODY) raw = raw.replace(pattern, placeholder);
  return { ...messageView(m), fields: m.parsed, raw, reply: m.reply ?? null };
}

/** One row of the pay notification list. */
export function payView(n: PayNotificationRecord) {
  return {
    id: n.id,
    merchant: n.merchant,
    notificationId: n.notificationId,
    eventType: n.eventType,
    resourceType: n.resourceType,
    summary: n.summary ?? null,
    receivedAt: iso(n.receivedAt),
  };
}

/** One notification with its decrypted resource and its body as received (still encrypted). */
export function payDetail(n: PayNotificationRecord) {
  return { ...payView(n), createTime: n.createTime ?? null, fields: n.resource, raw: n.raw };
}

/** A delivery: its target without user info or query (they may carry credentials). */
export function deliveryView(d: DeliveryRecord) {
  return {
    id: d.id,
    owner: d.owner,
    source: d.source,
    sourceId: d.sourceId,
    target: targetForLog(d.targetUrl),
    status: d.status,
    attempts: d.attempts,
    maxAttempts: d.maxAttempts,
    // Rows stored before errors were cut may still quote their target URL.
    lastError: d.lastError === undefined ? null : redactUrls(d.lastError),
    nextAttemptAt: iso(d.nextAttemptAt),
    deliveredAt: iso(d.deliveredAt),
  };
}
