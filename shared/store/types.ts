import type {
  AppConfig,
  AppKind,
  ForwardRule,
  MerchantConfig,
  MessageMode,
  TokenMode,
} from '../config';
import { isBranded } from '../http/errors';
import type { AdminRepo } from './admin';
import type { PlatformMerchantsRepo } from './platform-merchants';
import type { ReaderStore } from './reader';
import type { LoginSessionsRepo, SigningKeysRepo } from './sessions';
import type { SmsRepo } from './sms';
import type { WxacodesRepo } from './wxacodes';

/** Where an app or merchant row came from: the apps file (synced at start) or the admin API. */
export type Source = 'file' | 'api';

/**
 * A sealed column of a row that could not be opened; the record carries `undefined` (or `''` for
 * a required column) in its place, so one such row never makes a read or a list throw.
 */
export interface Unreadable {
  /** `SECRET_KEY_UNKNOWN`: sealed under a key id no longer configured; `SECRET_UNREADABLE`: does not authenticate (altered, or copied from another row or column). */
  code: 'SECRET_KEY_UNKNOWN' | 'SECRET_UNREADABLE';
  /** `table.column`, e.g. `apps.app_secret`. */
  column: string;
  /** The row, e.g. `shop-mp` or `app:shop-mp/access_token`. */
  row: string;
  /** The key id the value names, when it names one. */
  keyId: string | undefined;
  /** One line for operators and callers: code, column, row and key id, never a value. */
  message: string;
}

/** An app as stored, secrets opened. */
export interface AppRecord {
  name: string;
  kind: AppKind;
  appId: string;
  appSecret: string | undefined;
  token: string | undefined;
  encodingAesKey: string | undefined;
  tokenMode: TokenMode;
  /** Resolved: as configured, else the default ({@link messageModeOf}). */
  messageMode: MessageMode;
  forward: ForwardRule[];
  /** A component's browser destination after an authorization (`authRedirectUrl`). */
  authRedirectUrl: string | undefined;
  /** An official account's OAuth redirect allow-list (`oauthRedirects`), as written. */
  oauthRedirects?: string[] | undefined;
  /** An official account's `oauthComponent` (the component app its OAuth runs through). */
  oauthComponent?: string | undefined;
  /** A Fengniao app's developer id (`devId`). */
  devId?: string | undefined;
  /** A WeCom suite's `providerCorpId` (the provider's corpid). */
  providerCorpId?: string | undefined;
  /** `messageMode` as written (undefined: the default applies), for writing the entry back. */
  configuredMessageMode?: MessageMode | undefined;
  source: Source;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** Sealed columns that did not open (their fields are `undefined`); absent when all did. */
  unreadable?: Unreadable[] | undefined;
}

export interface PlatformCertificate {
  serialNo: string;
  certificate: string;
  /** Epoch ms; present for downloaded certificates. */
  expiresAt?: number;
}

/** A merchant as stored, secrets opened. */
export interface MerchantRecord {
  name: string;
  mchId: string;
  appId: string | undefined;
  apiV3Key: string;
  serialNo: string;
  privateKey: string;
  publicKeyId: string | undefined;
  publicKey: string | undefined;
  platformCertificates: PlatformCertificate[];
  forward: { url: string; timeoutMs?: number | undefined }[];
  source: Source;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** Sealed columns that did not open (their fields are `''`); absent when all did. */
  unreadable?: Unreadable[] | undefined;
}

/** Identifies one credential row, e.g. `{ owner: 'app:shop-mp', kind: 'access_token' }`. */
export interface CredentialKey {
  owner: string;
  kind: string;
}

/** A credential as stored, value opened. */
export interface CredentialRecord extends CredentialKey {
  value: string | undefined;
  expiresAt: number | undefined;
  version: number;
  leaseOwner: string | undefined;
  leaseUntil: number | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  failures: number;
  nextAttemptAt: number | undefined;
  refreshedAt: number | undefined;
  /** Set when the stored value did not open (`value` is then `undefined`). */
  unreadable?: Unreadable | undefined;
}

export interface AppsRepo {
  /** Inserts or updates by name; enabled unless the entry says `enabled: false`. */
  upsert(app: AppConfig, source: Source, now: number): Promise<void>;
  /** Inserts a new row; false (nothing changed) when the name exists. */
  create(app: AppConfig, source: Source, now: number): Promise<boolean>;
  get(name: string): Promise<AppRecord | undefined>;
  list(filter?: { enabled?: boolean }): Promise<AppRecord[]>;
}

export interface MerchantsRepo {
  upsert(merchant: MerchantConfig, source: Source, now: number): Promise<void>;
  /** Inserts a new row; false (nothing changed) when the name exists. */
  create(merchant: MerchantConfig, source: Source, now: number): Promise<boolean>;
  get(name: string): Promise<MerchantRecord | undefined>;
  list(filter?: { enabled?: boolean }): Promise<MerchantRecord[]>;
}

/** A row selected by {@link CredentialsRepo.listDueKeys}: its key and expiry, no value. */
export interface DueCredential extends CredentialKey {
  id: number;
  /** Absent: no value yet (or cleared). */
  expiresAt?: number;
}

/** Where the previous page of {@link CredentialsRepo.listDueKeys} ended. */
export interface DueCursor {
  expiresAt: number | undefined;
  id: number;
}

export interface DueQuery {
  before: number;
  now: number;
  limit: number;
  after?: DueCursor;
  /** An owner prefix (no `%` or `_`) whose rows without expiry are never due. */
  unsetNeverDue?: string;
}

export interface CredentialsRepo {
  get(key: CredentialKey): Promise<CredentialRecord | undefined>;
  /** Creates the row (no value) if missing; a no-op when it exists. */
  ensure(key: CredentialKey, now: number): Promise<void>;
  /**
   * Takes the refresh lease when it is free or expired: one conditional UPDATE, so exactly one of
   * any number of concurrent claimers wins. The row must exist ({@link ensure}).
   */
  claimLease(
    key: CredentialKey,
    leaseOwner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean>;
  /** Releases the lease only if `leaseOwner` still holds it. */
  releaseLease(key: CredentialKey, leaseOwner: string): Promise<boolean>;
  /** The rows of any of `owners` with any of `kinds` (one query; a page of a bulk job). */
  getMany(owners: readonly string[], kinds: readonly string[]): Promise<CredentialRecord[]>;
  /** Moves the lease's end to `now + leaseMs` if `leaseOwner` still holds it (long work). */
  extendLease(
    key: CredentialKey,
    leaseOwner: string,
    now: number,
    leaseMs: number,
  ): Promise<boolean>;
  /**
   * Writes a new value (version + 1, error cleared) and releases the lease, only if `leaseOwner`
   * still holds it; false means the lease was lost and nothing was written.
   */
  saveValue(
    key: CredentialKey,
    leaseOwner: string,
    value: { value: string; expiresAt: number },
    now: number,
  ): Promise<boolean>;
  /** Records a failed refresh (failures + 1, next attempt) and releases the lease, owner-checked. */
  recordError(
    key: CredentialKey,
    leaseOwner: string,
    error: { message: string; nextAttemptAt: number },
    now: number,
  ): Promise<boolean>;
  /**
   * Writes a value unconditionally (no lease): for small bookkeeping rows written by a caller that
   * already holds the lease of the credential they guard (e.g. the force_refresh budget).
   */
  put(key: CredentialKey, value: { value: string; expiresAt: number }, now: number): Promise<void>;
  /**
   * Writes a value (no lease) only if it expires later than the stored one, or none is stored:
   * the newest wins whatever order concurrent writers arrive in (e.g. `component_verify_ticket`
   * pushes). True when this value was written.
   */
  putIfNewer(
    key: CredentialKey,
    value: { value: string; expiresAt: number },
    now: number,
  ): Promise<boolean>;
  /** Credentials whose last refresh failed and that are backing off at `now`. */
  listFailing(now: number, limit: number): Promise<CredentialRecord[]>;
  /** Clears the value of a credential (e.g. tickets after their access token was replaced). */
  clearValue(key: CredentialKey, now: number): Promise<void>;
  /**
   * Clears the value and drops any lease on the row, in one statement: a refresh under way
   * (whose save needs its lease, see {@link saveValue}) cannot write back what it fetched. For
   * what must not come back: a revoked tenant's secrets, an earlier install's token.
   */
  dropValue(key: CredentialKey, now: number): Promise<void>;
  /** Deletes the row, only while `leaseOwner` holds its lease; returns whether it did. */
  removeLeased(key: CredentialKey, leaseOwner: string): Promise<boolean>;
  /**
   * Deletes up to `limit` rows of `kind` whose owner starts with `ownerPrefix`, last written
   * before `before`, whose lease is free (rows that only ever serve for a while, e.g. spent
   * authorization codes); returns how many. Found through the (owner, kind) index and deleted by
   * id, so only those rows are locked.
   */
  purgeKindBefore(
    ownerPrefix: string,
    kind: string,
    before: number,
    limit: number,
  ): Promise<number>;
  /**
   * One page of the refresh pass's selection, without opening any sealed value: rows with no
   * expiry (by id), then rows with `expires_at` before `q.before` (by expiry, then id), after
   * `q.after` (the last row of the previous page), skipping rows backing off at `q.now` and rows
   * with no expiry whose owner starts with `q.unsetNeverDue` (e.g. revoked authorizers' cleared
   * rows: nothing to refresh them from). Both ranges are ranges of the `expires_at` index.
   */
  listDueKeys(q: DueQuery): Promise<DueCredential[]>;
  /**
   * Takes, in one UPDATE, the refresh lease of the rows of `kind` for `owners` that are free (or
   * expired), still expire before `dueBefore` (or have no value) and are not backing off at
   * `now`; returns the rows taken, with their failure counts (one more query, by the unique key).
   */
  claimDueLeases(
    kind: string,
    owners: readonly string[],
    leaseOwner: string,
    now: number,
    leaseMs: number,
    dueBefore: number,
  ): Promise<{ owner: string; failures: number }[]>;
  /** Runs `work` in one transaction (one commit) over this repository. */
  transaction<T>(work: (repo: CredentialsRepo) => Promise<T>): Promise<T>;
  /** The rows of `kind` for `owners` (one query), by owner; missing owners are absent. */
  getManyOfKind(kind: string, owners: readonly string[]): Promise<Map<string, CredentialRecord>>;
  /**
   * Credential rows whose value was sealed under a key that is not configured (or is not a sealed
   * value at all), up to `limit`: found by the key id in the stored text, without opening any row,
   * so the start-up check costs one query that usually returns nothing.
   */
  listUnderUnknownKeys(limit: number): Promise<CredentialRecord[]>;
  /** Rows by owner then kind (only `owner`'s, of `kinds`, when given), at most `limit`. */
  list(q: {
    owner?: string | undefined;
    kinds?: readonly string[] | undefined;
    limit: number;
  }): Promise<CredentialRecord[]>;
}

export interface NewCallbackMessage {
  app: string;
  dedupKey: string;
  receivedAt: number;
  format: 'xml' | 'json';
  encrypted: boolean;
  raw: string;
  parsed: Record<string, unknown>;
  msgType?: string | undefined;
  event?: string | undefined;
  fromUser?: string | undefined;
  toUser?: string | undefined;
  createTime?: number | undefined;
  msgId?: string | undefined;
  /** The answer, when it is known before anything is forwarded (no rule matched). */
  reply?: string | undefined;
  /** A third-party platform's message URL: the authorizer appid the push is for. */
  authorizerAppid?: string | undefined;
}

export interface CallbackMessageRecord extends NewCallbackMessage {
  id: number;
  reply: string | undefined;
}

export interface NewDelivery {
  owner: string;
  targetUrl: string;
  idempotencyKey: string;
  payload: string;
  maxAttempts: number;
  nextAttemptAt: number;
  /** Stored already locked by this worker (the receiver tries it at once), until `lockedUntil`. */
  lockedBy?: string | undefined;
  lockedUntil?: number | undefined;
}

export interface DeliveryRecord extends NewDelivery {
  id: number;
  source: 'message' | 'pay';
  sourceId: number;
  /** `discarded`: an admin gave up on it; never sent again, purged like delivered rows. */
  status: 'pending' | 'delivered' | 'dead' | 'discarded';
  attempts: number;
  lastError: string | undefined;
  deliveredAt: number | undefined;
}

/** The signature a push came with, remembered to refuse its reuse with another body. */
export interface UsedSignature {
  /** `signature` or `msg_signature` as sent (hex). */
  signature: string;
  /** SHA-256 of the raw body, hex. */
  bodyHash: string;
  /**
   * Epoch ms after which the signature's timestamp is refused anyway; forgotten
   * {@link SIGNATURE_GRACE_MS} later.
   */
  expiresAt: number;
}

/**
 * How long a signature is remembered past its `expiresAt`: a push whose timestamp was accepted
 * just before then may still be on its way to the database (waiting for another process's write
 * lock up to the busy budget, 5 s by default), and must still find the signature it replays.
 */
export const SIGNATURE_GRACE_MS = 60_000;

const SIGNATURE_REPLAY_ERROR = Symbol.for('wxhub.SignatureReplayError');

/** A signature already used with another body: a replay. Nothing was stored. */
export class SignatureReplayError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, SIGNATURE_REPLAY_ERROR);
  }
  readonly [SIGNATURE_REPLAY_ERROR] = true;
  override name = 'SignatureReplayError';
  constructor() {
    super('this signature was already used with another body');
  }
}

export interface MessagesRepo {
  /**
   * Stores a message and its deliveries in one transaction. A duplicate dedup key stores nothing
   * and returns the first delivery's row (`inserted: false`) — never an error. With `signature`,
   * the same transaction first records it (on MySQL one insert on a unique key; on SQLite an
   * append to a log, the key kept in the process): seen before with the same body
   * (WeChat's retry) it goes on as usual; seen with another body it stores nothing and throws
   * {@link SignatureReplayError}. Calls made in the same turn of the event loop may share one
   * transaction; each settles as it would alone, in the order called.
   */
  insert(
    msg: NewCallbackMessage,
    deliveries: NewDelivery[],
    now: number,
    signature?: UsedSignature,
  ): Promise<{ inserted: boolean; message: CallbackMessageRecord }>;
  /**
   * Deletes remembered signatures that expired before `before` (a caller keeps
   * {@link SIGNATURE_GRACE_MS} of them: `now - SIGNATURE_GRACE_MS`); returns how many.
   */
  purgeSignatures(before: number, limit: number): Promise<number>;
  get(app: string, dedupKey: string): Promise<CallbackMessageRecord | undefined>;
  /** How many messages of `app` are stored. */
  count(app: string): Promise<number>;
  /**
   * Sets the answer of a message unless one is set already, and returns the one stored: the first
   * answer wins, so every delivery of the same push is answered alike.
   */
  finishReply(id: number, reply: string): Promise<string>;
  /** Deletes messages received before `before`; returns how many. */
  purgeBefore(before: number, limit: number): Promise<number>;
  byId(id: number): Promise<CallbackMessageRecord | undefined>;
  /** Newest first (by id), only ids below `q.before` when given, at most `q.limit`. */
  search(q: MessageQuery): Promise<CallbackMessageRecord[]>;
  /** How many messages were received in [from, to). */
  countReceived(from: number, to: number): Promise<number>;
}

/** A search of stored messages; every field given narrows it. */
export interface MessageQuery {
  app?: string | undefined;
  msgType?: string | undefined;
  event?: string | undefined;
  fromUser?: string | undefined;
  /** `received_at` ≥ from, < to (epoch ms). */
  from?: number | undefined;
  to?: number | undefined;
  before?: number | undefined;
  limit: number;
}

/** A search of stored pay notifications; every field given narrows it. */
export interface PayNotificationQuery {
  merchant?: string | undefined;
  eventType?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  before?: number | undefined;
  limit: number;
}

export interface NewPayNotification {
  merchant: string;
  notificationId: string;
  eventType: string;
  resourceType: string;
  summary?: string | undefined;
  createTime?: string | undefined;
  raw: string;
  resource: Record<string, unknown>;
  receivedAt: number;
}

export interface PayNotificationRecord extends NewPayNotification {
  id: number;
}

export interface PayNotificationsRepo {
  /** Stores once by (merchant, notification id) together with its deliveries. */
  insert(
    n: NewPayNotification,
    deliveries: NewDelivery[],
    now: number,
  ): Promise<{ inserted: boolean; notification: PayNotificationRecord }>;
  get(merchant: string, notificationId: string): Promise<PayNotificationRecord | undefined>;
  byId(id: number): Promise<PayNotificationRecord | undefined>;
  /** Newest first (by id), only ids below `q.before` when given, at most `q.limit`. */
  search(q: PayNotificationQuery): Promise<PayNotificationRecord[]>;
  /** How many notifications were received in [from, to). */
  countReceived(from: number, to: number): Promise<number>;
}

export interface OutboxRepo {
  /**
   * Locks up to `limit` due pending deliveries for `worker` until `now + lockMs` (only `owner`'s
   * when given).
   */
  claimDue(
    worker: string,
    now: number,
    lockMs: number,
    limit: number,
    owner?: string,
  ): Promise<DeliveryRecord[]>;
  markDelivered(id: number, worker: string, now: number): Promise<boolean>;
  /** Records a failed attempt: back to pending at `nextAttemptAt`, or `dead` when out of attempts. */
  markFailed(
    id: number,
    worker: string,
    error: string,
    nextAttemptAt: number,
    now: number,
  ): Promise<'pending' | 'dead' | 'lost'>;
  /** By id; with `newest`, only the newest that many, newest first. */
  list(filter: {
    status?: DeliveryRecord['status'];
    owner?: string;
    newest?: number;
  }): Promise<DeliveryRecord[]>;
  /** The deliveries of one stored message or notification, by id. */
  forSource(source: DeliveryRecord['source'], sourceId: number): Promise<DeliveryRecord[]>;
  /**
   * Deletes delivered rows delivered before `before` and discarded rows discarded before it;
   * pending and dead ones stay.
   */
  purgeDelivered(before: number, limit: number): Promise<number>;
  get(id: number): Promise<DeliveryRecord | undefined>;
  /** How many rows have `status`. */
  countStatus(status: DeliveryRecord['status']): Promise<number>;
  /**
   * A dead or pending row back to pending, due at `now`, attempts reset, lock cleared (a worker
   * holding it loses it); false when the row is neither.
   */
  requeue(id: number, now: number): Promise<boolean>;
  /** A dead or pending row to `discarded`, lock cleared; false when the row is neither. */
  discard(id: number, now: number): Promise<boolean>;
}

/** One hour of a counter: `name` (e.g. `refresh`), `label` (e.g. `ok`), its count. */
export interface CounterBucket {
  label: string;
  bucketStart: number;
  count: number;
}

/** Durable event counters per hour (the dashboard) and in all (`GET /metrics`). */
export interface CountersRepo {
  /**
   * Adds one to (name, label, the hour of `now`): one upsert; with `total`, also to (name,
   * label)'s all-time count (a second upsert), which {@link totals} reads.
   */
  increment(name: string, label: string, now: number, opts?: { total?: boolean }): Promise<void>;
  /** The buckets of `name` starting in [from, to), every label. */
  list(name: string, from: number, to: number): Promise<CounterBucket[]>;
  /** The all-time count of each label of `name` counted with `total` (Prometheus counters). */
  totals(name: string): Promise<{ label: string; count: number }[]>;
  /** Writes one row (the health check's write probe): rejects when the database takes no write. */
  probe(): Promise<void>;
}

/** An alert condition raised and not cleared (`WXHUB_ALERT_WEBHOOK`). */
export interface AlertRecord {
  key: string;
  raisedAt: number;
}

/** Alert conditions across instances: whoever raises a key sends it, whoever clears it says so. */
export interface AlertsRepo {
  /** Inserts `key` unless raised already: true when this call raised it. */
  raise(key: string, now: number): Promise<boolean>;
  list(): Promise<AlertRecord[]>;
  /** Deletes `key`: true when this call cleared it. */
  clear(key: string): Promise<boolean>;
}

/** Counters count per hour. */
export const COUNTER_BUCKET_MS = 3_600_000;

/**
 * The bucket start of the all-time rows: before every hour, so a range of hours never holds it.
 */
export const ALL_TIME_BUCKET = -1;

/** An authorizer of a third-party platform is `authorized` until it revokes (`unauthorized`). */
export type AuthorizerStatus = 'authorized' | 'revoked';

/** One row of the authorizer directory (never a token: those stay in the credentials). */
export interface AuthorizerRecord {
  /** The component app's name. */
  app: string;
  /** The authorizer's appid. */
  appId: string;
  status: AuthorizerStatus;
  nickName: string | undefined;
  /** The account's original id (`gh_…`). */
  userName: string | undefined;
  /** Ids of the permission sets granted (`func_info[].funcscope_category.id`). */
  funcInfo: number[];
  authorizedAt: number;
  updatedAt: number;
  revokedAt: number | undefined;
}

/** What an authorization tells about an authorizer; undefined fields keep their stored value. */
export interface AuthorizerFields {
  authorizedAt: number;
  funcInfo?: number[] | undefined;
  nickName?: string | undefined;
  userName?: string | undefined;
}

export interface AuthorizersRepo {
  /** Marks (app, appId) authorized, inserting it when new: `added`, else `updated`. */
  markAuthorized(
    app: string,
    appId: string,
    fields: AuthorizerFields,
    now: number,
  ): Promise<'added' | 'updated'>;
  /** Marks (app, appId) revoked at `now` (inserting it when unknown). */
  markRevoked(app: string, appId: string, now: number): Promise<void>;
  get(app: string, appId: string): Promise<AuthorizerRecord | undefined>;
  /** Those of `appIds` that `app` has (one query). */
  getMany(app: string, appIds: readonly string[]): Promise<AuthorizerRecord[]>;
  /** One page in appid order, and how many match in all. */
  list(
    app: string,
    q: { status?: AuthorizerStatus | undefined; offset: number; limit: number },
  ): Promise<{ authorizers: AuthorizerRecord[]; total: number }>;
}

/** An OAuth `state` as stored (its hash is the key). */
export interface OAuthStateRecord {
  app: string;
  scope: string;
  /** The caller's redirect, already checked against the app's allow-list. */
  redirect: string;
  expiresAt: number;
}

/** What an OAuth callback learned, kept for one redemption of its `wxhub_ticket`. */
export interface OAuthTicketRecord {
  app: string;
  openid: string;
  unionid: string | undefined;
  scope: string;
  /** `sns/userinfo`'s answer (snsapi_userinfo only). */
  user: Record<string, unknown> | undefined;
  snapshotUser: boolean;
  expiresAt: number;
}

/** Taking a single-use row: the row, or why not (never seen, used already, expired). */
export type Taken<T> =
  | { outcome: 'taken'; record: T }
  | { outcome: 'unknown' }
  | { outcome: 'used' }
  | { outcome: 'expired' };

/** OAuth2 web authorization: states under way and tickets to redeem, each single-use. */
export interface OAuthRepo {
  putState(stateHash: string, state: OAuthStateRecord, now: number): Promise<void>;
  /** Marks the state of `app` used when it is unused and unexpired at `now` (one UPDATE). */
  takeState(stateHash: string, app: string, now: number): Promise<Taken<OAuthStateRecord>>;
  putTicket(ticketHash: string, ticket: OAuthTicketRecord, now: number): Promise<void>;
  /** Marks the ticket used when it is unused and unexpired at `now` (one UPDATE). */
  takeTicket(ticketHash: string, now: number): Promise<Taken<OAuthTicketRecord>>;
  /** Deletes states and tickets that expired before `before`, at most `limit` of each. */
  purgeExpired(before: number, limit: number): Promise<number>;
}

/** Every query wxhub issues goes through a Store. One implementation per dialect. */
export interface Store {
  readonly dialect: 'mysql' | 'sqlite';
  apps: AppsRepo;
  merchants: MerchantsRepo;
  credentials: CredentialsRepo;
  messages: MessagesRepo;
  payNotifications: PayNotificationsRepo;
  outbox: OutboxRepo;
  authorizers: AuthorizersRepo;
  /** Console users, sessions, login failures, audit, console-made API keys. */
  admin: AdminRepo;
  counters: CountersRepo;
  /** Alert conditions raised to the alert webhook and not cleared. */
  alerts: AlertsRepo;
  oauth: OAuthRepo;
  /** Stored mini program codes of the kinds with a lifetime quota. */
  wxacodes: WxacodesRepo;
  platformMerchants: PlatformMerchantsRepo;
  /** Mini Program users' session keys, sealed (`POST /v1/apps/{app}/login`). */
  loginSessions: LoginSessionsRepo;
  /** The keys that sign the hub's session JWTs (`GET /.well-known/jwks.json`). */
  signingKeys: SigningKeysRepo;
  /**
   * The reads that may lag (console lists, searches, dashboard counts, metrics): on the read
   * replica when `DATABASE_READ_URL` names one (falling back to the primary while it fails), else
   * on the primary. Every repository above always queries the primary.
   */
  reader: ReaderStore;
  /** SMS verification codes and the per-phone send locks (`/v1/sms/…`). */
  sms: SmsRepo;
  /** `SELECT 1`; rejects when the database is unreachable. */
  ping(): Promise<void>;
  /**
   * A write (one upsert), and for an SQLite file a check that the file is still there and
   * writable: rejects when the database would not keep a write (`/healthz?detail=1`).
   */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}
