// The admin API's answers as the console reads them (README, Admin console).

export interface Me {
  user: { id: number; name: string };
  csrfToken: string;
  expiresAt: string;
}

export interface LastError {
  message: string;
  at: string;
}

export interface FreshnessRow {
  owner: string;
  kind: string;
  expiresAt: string | null;
  expiresInSeconds: number | null;
  refreshedAt: string | null;
  lastError: LastError | null;
  failures: number;
  leaseHolder: string | null;
  leaseUntil: string | null;
}

export interface Activity {
  from: string;
  bucketSeconds: number;
  pushes: number[];
  payNotifications: number[];
  refreshes: number[];
}

export interface Dashboard {
  credentials: FreshnessRow[];
  activity: Activity;
  outbox: { pending: number; dead: number };
}

export interface ForwardRule {
  url: string;
  match?: Record<string, string | string[]>;
  timeoutMs?: number;
}

export interface AppRow {
  name: string;
  kind: string;
  appId: string;
  source: string;
  enabled: boolean;
  tokenMode: string;
  messageMode?: string | null;
  forward: ForwardRule[];
  authRedirectUrl?: string | null;
  secrets: Record<string, boolean>;
  createdAt?: string;
  updatedAt?: string;
}

export interface MerchantRow {
  name: string;
  mchId: string;
  appId?: string | null;
  serialNo?: string;
  publicKeyId?: string | null;
  source: string;
  enabled: boolean;
  forward: ForwardRule[];
  secrets: Record<string, boolean>;
  createdAt?: string;
  updatedAt?: string;
}

export interface CredentialRow {
  owner: string;
  kind: string;
  masked: string;
  expiresAt: string | null;
  version: number | string | null;
  refreshedAt: string | null;
  lastError: LastError | null;
}

export interface Delivery {
  id: number | string;
  target: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  owner?: string;
  /** What the delivery forwards: a push (`message`) or a pay notification (`pay`), by row id. */
  source?: string;
  sourceId?: number | string;
  maxAttempts?: number;
}

export interface MessageRow {
  id: number | string;
  app: string;
  authorizerAppId?: string | null;
  msgType: string | null;
  event?: string | null;
  fromUser?: string | null;
  receivedAt: string;
  encrypted: boolean;
}

export interface MessageDetail extends MessageRow {
  fields: Record<string, unknown>;
  raw: string;
  reply?: string | null;
}

export interface PayRow {
  id: number | string;
  merchant: string;
  eventType?: string;
  type?: string;
  resourceType?: string;
  summary?: string;
  receivedAt: string;
  [key: string]: unknown;
}

export interface PayDetail extends PayRow {
  fields?: Record<string, unknown>;
  resource?: Record<string, unknown>;
  raw: string;
}

export interface Authorizer {
  app?: string;
  appId: string;
  nickName?: string;
  userName?: string;
  status: string;
  funcInfo?: number[];
  authorizedAt?: string;
  updatedAt?: string;
  revokedAt?: string;
}

export interface ApiKey {
  id: number | string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface AuditRow {
  id: number | string;
  at: string;
  actor: string | { id: number; name: string } | null;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}
