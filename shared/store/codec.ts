import type { AppConfig, AppKind, MerchantConfig, TokenMode } from '../config';
import { type MessageMode, messageModeOf } from '../config/message-mode';
import { type SecretBox, SecretBoxError } from '../crypto/secret-box';
import { parseExactJson, stringifyExactJson } from '../wechat/exact-json';
import type {
  AppRecord,
  CallbackMessageRecord,
  CredentialKey,
  CredentialRecord,
  DeliveryRecord,
  MerchantRecord,
  NewCallbackMessage,
  NewDelivery,
  NewPayNotification,
  PayNotificationRecord,
  Source,
  Unreadable,
} from './types';

// Row shapes shared by both dialects' schemas (same column names, same value types).
interface AppRow {
  name: string;
  kind: string;
  appId: string;
  appSecret: string | null;
  callbackToken: string | null;
  encodingAesKey: string | null;
  tokenMode: string;
  messageMode: string | null;
  forward: string;
  authRedirectUrl: string | null;
  oauthRedirects: string | null;
  oauthComponent: string | null;
  devId: string | null;
  providerCorpId: string | null;
  source: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

interface MerchantRow {
  name: string;
  mchId: string;
  appId: string | null;
  apiV3Key: string;
  serialNo: string;
  privateKey: string;
  publicKeyId: string | null;
  publicKey: string | null;
  platformCertificates: string;
  forward: string;
  source: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

interface CredentialRow {
  owner: string;
  kind: string;
  value: string | null;
  expiresAt: number | null;
  version: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  failures: number;
  nextAttemptAt: number | null;
  refreshedAt: number | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** What a sealed column that did not open is recorded as; never carries a value. */
export function unreadableOf(err: SecretBoxError, column: string, row: string): Unreadable {
  const keyId = err.keyId !== undefined && /^[0-9a-f]{8}$/.test(err.keyId) ? err.keyId : undefined;
  if (err.reason === 'unknown-key') {
    return {
      code: 'SECRET_KEY_UNKNOWN',
      column,
      row,
      keyId,
      message: `SECRET_KEY_UNKNOWN: ${column} of ${row} is sealed with key id ${keyId ?? '?'}, which is not a configured key (WXHUB_SECRET_KEY)`,
    };
  }
  return {
    code: 'SECRET_UNREADABLE',
    column,
    row,
    keyId,
    message: `SECRET_UNREADABLE: ${column} of ${row} does not open: ${err.message}`,
  };
}

/** Seals and opens the secret columns; labels bind each ciphertext to its column and row. */
export function createCodec(box: SecretBox) {
  const sealOpt = (v: string | undefined, label: string) =>
    v === undefined ? null : box.seal(v, label);
  /**
   * Opens `table.column` of `row`; a value that does not open (unknown key id, altered) is
   * recorded in `bad` and read as undefined, so one such row never makes a list throw.
   */
  const openOpt = (v: string | null, column: string, row: string, bad: Unreadable[]) => {
    if (v === null) return undefined;
    try {
      return box.open(v, `${column}:${row}`);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      bad.push(unreadableOf(err, column, row));
      return undefined;
    }
  };
  const credentialLabel = (k: CredentialKey) => `credentials.value:${k.owner}/${k.kind}`;
  const withUnreadable = (bad: Unreadable[]) => (bad.length === 0 ? {} : { unreadable: bad });

  return {
    /** Ids of the keys that open sealed values: `wx1.<keyId>.…` with another id cannot open. */
    keyIds: box.keyIds,
    /** Seals `value` of `column` (`table.column`) in `row`: the label binds it to both. */
    seal: (value: string, column: string, row: string): string =>
      box.seal(value, `${column}:${row}`),
    /** Opens what {@link seal} sealed, or says why it does not open (never a value). */
    open(sealed: string, column: string, row: string): { value: string } | Unreadable {
      try {
        return { value: box.open(sealed, `${column}:${row}`) };
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        return unreadableOf(err, column, row);
      }
    },
    appRow(app: AppConfig, source: Source, now: number) {
      return {
        name: app.name,
        kind: app.kind,
        appId: app.appId,
        appSecret: sealOpt(app.appSecret, `apps.app_secret:${app.name}`),
        callbackToken: sealOpt(app.token, `apps.callback_token:${app.name}`),
        encodingAesKey: sealOpt(app.encodingAesKey, `apps.encoding_aes_key:${app.name}`),
        tokenMode: app.tokenMode,
        messageMode: app.messageMode ?? null,
        forward: JSON.stringify(app.forward),
        authRedirectUrl: app.authRedirectUrl ?? null,
        oauthRedirects:
          app.oauthRedirects === undefined ? null : JSON.stringify(app.oauthRedirects),
        oauthComponent: app.oauthComponent ?? null,
        devId: app.devId ?? null,
        providerCorpId: app.providerCorpId ?? null,
        source,
        enabled: app.enabled !== false,
        createdAt: now,
        updatedAt: now,
      };
    },
    app(row: AppRow): AppRecord {
      const bad: Unreadable[] = [];
      return {
        name: row.name,
        kind: row.kind as AppKind,
        appId: row.appId,
        appSecret: openOpt(row.appSecret, 'apps.app_secret', row.name, bad),
        token: openOpt(row.callbackToken, 'apps.callback_token', row.name, bad),
        encodingAesKey: openOpt(row.encodingAesKey, 'apps.encoding_aes_key', row.name, bad),
        tokenMode: row.tokenMode as TokenMode,
        messageMode: messageModeOf({
          messageMode: (row.messageMode ?? undefined) as MessageMode | undefined,
          encodingAesKey: row.encodingAesKey ?? undefined,
        }),
        forward: JSON.parse(row.forward) as AppRecord['forward'],
        authRedirectUrl: row.authRedirectUrl ?? undefined,
        oauthRedirects:
          row.oauthRedirects === null ? undefined : (JSON.parse(row.oauthRedirects) as string[]),
        oauthComponent: row.oauthComponent ?? undefined,
        ...(row.devId === null ? {} : { devId: row.devId }),
        ...(row.providerCorpId === null ? {} : { providerCorpId: row.providerCorpId }),
        ...(row.messageMode === null
          ? {}
          : { configuredMessageMode: row.messageMode as MessageMode }),
        source: row.source as Source,
        enabled: row.enabled,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        ...withUnreadable(bad),
      };
    },
    merchantRow(m: MerchantConfig, source: Source, now: number) {
      return {
        name: m.name,
        mchId: m.mchId,
        appId: m.appId ?? null,
        apiV3Key: box.seal(m.apiV3Key, `merchants.api_v3_key:${m.name}`),
        serialNo: m.serialNo,
        privateKey: box.seal(m.privateKey, `merchants.private_key:${m.name}`),
        publicKeyId: m.publicKeyId ?? null,
        publicKey: m.publicKey ?? null,
        platformCertificates: JSON.stringify(m.platformCertificates),
        forward: JSON.stringify(m.forward),
        source,
        enabled: m.enabled !== false,
        createdAt: now,
        updatedAt: now,
      };
    },
    merchant(row: MerchantRow): MerchantRecord {
      const bad: Unreadable[] = [];
      return {
        name: row.name,
        mchId: row.mchId,
        appId: opt(row.appId),
        apiV3Key: openOpt(row.apiV3Key, 'merchants.api_v3_key', row.name, bad) ?? '',
        serialNo: row.serialNo,
        privateKey: openOpt(row.privateKey, 'merchants.private_key', row.name, bad) ?? '',
        publicKeyId: opt(row.publicKeyId),
        publicKey: opt(row.publicKey),
        platformCertificates: JSON.parse(
          row.platformCertificates,
        ) as MerchantRecord['platformCertificates'],
        forward: JSON.parse(row.forward) as MerchantRecord['forward'],
        source: row.source as Source,
        enabled: row.enabled,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        ...withUnreadable(bad),
      };
    },
    sealCredential(k: CredentialKey, value: string): string {
      return box.seal(value, credentialLabel(k));
    },
    credential(row: CredentialRow): CredentialRecord {
      const bad: Unreadable[] = [];
      const value = openOpt(row.value, 'credentials.value', `${row.owner}/${row.kind}`, bad);
      return {
        owner: row.owner,
        kind: row.kind,
        value,
        expiresAt: opt(row.expiresAt),
        version: row.version,
        leaseOwner: opt(row.leaseOwner),
        leaseUntil: opt(row.leaseUntil),
        lastError: opt(row.lastError),
        lastErrorAt: opt(row.lastErrorAt),
        failures: row.failures,
        nextAttemptAt: opt(row.nextAttemptAt),
        refreshedAt: opt(row.refreshedAt),
        ...(bad[0] === undefined ? {} : { unreadable: bad[0] }),
      };
    },
  };
}
export type Codec = ReturnType<typeof createCodec>;

type MessageRow = Parameters<typeof messageRecord>[0];

/**
 * The record of a message row just inserted with id `id`, `parsed` being what its `parsed` column
 * was written from ({@link messageRow}): the same record {@link messageRecord} would read back,
 * without parsing the JSON just written.
 */
export function newMessageRecord(
  id: number,
  row: Omit<MessageRow, 'id'>,
  parsed: Record<string, unknown>,
): CallbackMessageRecord {
  return { ...messageRecord({ id, ...row, parsed: '{}' }), parsed };
}

/** Maps a stored message row to its record. */
export function messageRecord(row: {
  id: number;
  app: string;
  dedupKey: string;
  receivedAt: number;
  format: string;
  encrypted: boolean;
  raw: string;
  parsed: string;
  msgType: string | null;
  event: string | null;
  fromUser: string | null;
  toUser: string | null;
  createTime: number | null;
  msgId: string | null;
  reply: string | null;
  authorizerAppid: string | null;
}): CallbackMessageRecord {
  return {
    id: row.id,
    app: row.app,
    dedupKey: row.dedupKey,
    receivedAt: row.receivedAt,
    format: row.format as 'xml' | 'json',
    encrypted: row.encrypted,
    raw: row.raw,
    parsed: parseExactJson(row.parsed) as Record<string, unknown>,
    msgType: opt(row.msgType),
    event: opt(row.event),
    fromUser: opt(row.fromUser),
    toUser: opt(row.toUser),
    createTime: opt(row.createTime),
    msgId: opt(row.msgId),
    reply: opt(row.reply),
    authorizerAppid: opt(row.authorizerAppid),
  };
}

/** Maps a stored outbox row to its record. */
export function deliveryRecord(row: {
  id: number;
  source: string;
  sourceId: number;
  owner: string;
  targetUrl: string;
  idempotencyKey: string;
  payload: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
}): DeliveryRecord {
  return {
    id: row.id,
    source: row.source as DeliveryRecord['source'],
    sourceId: row.sourceId,
    owner: row.owner,
    targetUrl: row.targetUrl,
    idempotencyKey: row.idempotencyKey,
    payload: row.payload,
    status: row.status as DeliveryRecord['status'],
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    nextAttemptAt: row.nextAttemptAt,
    lastError: opt(row.lastError),
    deliveredAt: opt(row.deliveredAt),
  };
}

/** Maps a stored pay notification row to its record. */
export function payRecord(row: {
  id: number;
  merchant: string;
  notificationId: string;
  eventType: string;
  resourceType: string;
  summary: string | null;
  createTime: string | null;
  raw: string;
  resource: string;
  receivedAt: number;
}): PayNotificationRecord {
  return {
    id: row.id,
    merchant: row.merchant,
    notificationId: row.notificationId,
    eventType: row.eventType,
    resourceType: row.resourceType,
    summary: opt(row.summary),
    createTime: opt(row.createTime),
    raw: row.raw,
    resource: parseExactJson(row.resource) as Record<string, unknown>,
    receivedAt: row.receivedAt,
  };
}

/** Columns of a new message row, common to both dialects. */
export function messageRow(m: NewCallbackMessage) {
  return {
    app: m.app,
    dedupKey: m.dedupKey,
    receivedAt: m.receivedAt,
    format: m.format,
    encrypted: m.encrypted,
    raw: m.raw,
    parsed: stringifyExactJson(m.parsed),
    msgType: m.msgType ?? null,
    event: m.event ?? null,
    fromUser: m.fromUser ?? null,
    toUser: m.toUser ?? null,
    createTime: m.createTime ?? null,
    msgId: m.msgId ?? null,
    reply: m.reply ?? null,
    authorizerAppid: m.authorizerAppid ?? null,
  };
}

/** Columns of new outbox rows for one stored source row. */
export function deliveryRows(
  source: 'message' | 'pay',
  sourceId: number,
  deliveries: NewDelivery[],
  now: number,
) {
  return deliveries.map((d) => ({
    source,
    sourceId,
    owner: d.owner,
    targetUrl: d.targetUrl,
    idempotencyKey: d.idempotencyKey,
    payload: d.payload,
    status: 'pending',
    attempts: 0,
    maxAttempts: d.maxAttempts,
    nextAttemptAt: d.nextAttemptAt,
    lockedBy: d.lockedBy ?? null,
    lockedUntil: d.lockedUntil ?? null,
    createdAt: now,
    updatedAt: now,
  }));
}

/** Columns of a new pay notification row. */
export function payRow(n: NewPayNotification) {
  return {
    merchant: n.merchant,
    notificationId: n.notificationId,
    eventType: n.eventType,
    resourceType: n.resourceType,
    summary: n.summary ?? null,
    createTime: n.createTime ?? null,
    raw: n.raw,
    resource: stringifyExactJson(n.resource),
    receivedAt: n.receivedAt,
  };
}
