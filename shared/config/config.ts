import { isBranded } from '../http/errors';
import type { Exposure } from '../http/exposure';
import type { LogLevel } from './env';
import { checkEnv, type Env } from './env';
import { parseSecretKeys } from './secret-keys';
import { validate } from './validate';

export type DatabaseConfig =
  | {
      dialect: 'mysql';
      url: string;
      /**
       * A replica of the same database (`DATABASE_READ_URL`) that serves the reads that may lag
       * (the store's `reader`); everything else stays on `url`.
       */
      readUrl?: string | undefined;
    }
  | { dialect: 'sqlite'; path: string };

export type AppsSource = { kind: 'inline'; text: string } | { kind: 'file'; path: string };

/** wxhub's configuration, parsed once at start from the environment. */
export interface Config {
  database: DatabaseConfig;
  apps: AppsSource | undefined;
  apiKeys: string[];
  trustWxSource: boolean;
  /** Which routes this process serves: `all`, `public` (WeChat- and browser-facing) or `internal`. */
  expose: Exposure;
  /** Secret-at-rest keys, first one current; undefined means "generate one" (embedded only). */
  secretKeys: Buffer[] | undefined;
  wechatApiBase: string;
  wechatPayApiBase: string;
  /** Fengniao's open API (`FENGNIAO_API_BASE`) and Shansong's (`SHANSONG_API_BASE`). */
  fengniaoApiBase: string;
  shansongApiBase: string;
  /** Where WeChat's authorization pages are (`WECHAT_MP_BASE`; the simulator in tests and demos). */
  wechatMpBase: string;
  /** Where WeChat's OAuth2 page `connect/oauth2/authorize` is (`WECHAT_OPEN_BASE`). */
  wechatOpenBase: string;
  /** WeCom's API (`WECOM_API_BASE`): `kind: wecom` apps' tokens and proxy. */
  wecomApiBase: string;
  /** Douyin (Toutiao) mini-program server APIs (`DOUYIN_API_BASE`). */
  douyinApiBase: string;
  /** Aliyun SMS API (`ALIYUN_SMS_ENDPOINT`). */
  aliyunSmsEndpoint: string;
  /**
   * Where signed COS upload URLs point (`COS_ENDPOINT`, e.g. the simulator's `/cos`); undefined:
   * `https://{bucket}.cos.{region}.myqcloud.com`.
   */
  cosEndpoint: string | undefined;
  /**
   * Where WeChat reaches this hub from outside (no trailing slash), e.g. `https://hub.example.com`:
   * the default pay `notify_url` is `{publicUrl}/pay/{merchant}/notify`.
   */
  publicUrl: string | undefined;
  refreshAheadSeconds: number | undefined;
  refreshIntervalSeconds: number;
  bodyLimitBytes: number;
  /** Body limit of the proxy routes (`/v1/proxy/…`, the pay proxy) instead of bodyLimitBytes. */
  proxyBodyLimitBytes: number;
  proxyTimeoutMs: number;
  /** JSON or text answers through the proxy longer than this are refused (502). */
  proxyMaxBytes: number;
  /** Pushes whose `timestamp` is further than this from now are refused. */
  callbackMaxSkewSeconds: number;
  /** Time a push may spend forwarding before it is answered (WeChat waits 5 s). */
  forwardBudgetMs: number;
  /** Attempts per outbox delivery before it is marked dead. */
  outboxMaxAttempts: number;
  /** Stored messages older than this are purged by the refresh pass; 0 keeps them. */
  messageRetentionDays: number;
  /** The console's first admin (`WXHUB_ADMIN_USER` / `WXHUB_ADMIN_PASSWORD`), made at start. */
  admin: { user: string; password: string } | undefined;
  /** A console session ends after this long without a request… */
  adminSessionIdleSeconds: number;
  /** …and this long after login, whatever happens. */
  adminSessionMaxSeconds: number;
  /** Login JWTs: `iss` (else publicUrl, else `wxhub`), lifetime, key rotation (undefined: default). */
  jwtIssuer: string | undefined;
  jwtTtlSeconds: number | undefined;
  jwtKeyRotationDays: number | undefined;
  dataDir: string;
  /** A bearer key that may read `GET /metrics` and nothing else (`WXHUB_METRICS_KEY`). */
  metricsKey: string | undefined;
  /** Where alerts are posted (`WXHUB_ALERT_WEBHOOK`): a WeCom group robot or any JSON URL. */
  alertWebhook: string | undefined;
  /** OTLP/HTTP traces (`OTEL_EXPORTER_OTLP_ENDPOINT`…): the traces URL and service name. */
  tracing: { url: string; serviceName: string } | undefined;
  port: number;
  logLevel: LogLevel;
}

const CONFIG_ERROR = Symbol.for('wxhub.ConfigError');

/** A bad start: names every bad variable, never its value. */
export class ConfigError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, CONFIG_ERROR);
  }
  readonly [CONFIG_ERROR] = true;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function mysqlFromCloudRun(env: Record<string, string | undefined>, problems: string[]) {
  const address = env.MYSQL_ADDRESS;
  if (address === undefined) {
    if (env.MYSQL_USERNAME !== undefined || env.MYSQL_PASSWORD !== undefined) {
      problems.push('MYSQL_ADDRESS: required when MYSQL_USERNAME or MYSQL_PASSWORD is set');
    }
    return undefined;
  }
  if (env.MYSQL_USERNAME === undefined) {
    problems.push('MYSQL_USERNAME: required with MYSQL_ADDRESS');
    return undefined;
  }
  const [host, port = '3306'] = address.split(':');
  const user = encodeURIComponent(env.MYSQL_USERNAME);
  const pass = encodeURIComponent(env.MYSQL_PASSWORD ?? '');
  const db = env.MYSQL_DATABASE ?? 'wxhub';
  return `mysql://${user}:${pass}@${host}:${port}/${db}`;
}

function databaseConfig(
  url: string | undefined,
  readUrl: string | undefined,
  env: Record<string, string | undefined>,
  problems: string[],
): DatabaseConfig {
  const resolved = url ?? mysqlFromCloudRun(env, problems) ?? 'file:.data/wxhub.db';
  if (resolved.startsWith('mysql://')) {
    return { dialect: 'mysql', url: resolved, ...(readUrl === undefined ? {} : { readUrl }) };
  }
  if (readUrl !== undefined) {
    problems.push(
      'DATABASE_READ_URL: a read replica needs a MySQL primary (DATABASE_URL=mysql://… or ' +
        'MYSQL_ADDRESS); the embedded SQLite database has none',
    );
  }
  return { dialect: 'sqlite', path: resolved.slice('file:'.length) };
}

/**
 * Parses the environment into a {@link Config}. Empty values count as unset (container consoles
 * often pass empty parameters).
 *
 * @throws ConfigError listing every bad key at once.
 * @example const config = parseConfig(process.env);
 */
export function parseConfig(rawEnv: Record<string, string | undefined>): Config {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(rawEnv)) if (v !== undefined && v !== '') env[k] = v;

  const problems: string[] = [];
  const parsed = validate(checkEnv, env);
  if (!parsed.ok) {
    for (const issue of parsed.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  // Checks below read the raw values too, so one start reports every bad key at once.
  const database = databaseConfig(
    parsed.ok ? parsed.value.DATABASE_URL : env.DATABASE_URL,
    parsed.ok ? parsed.value.DATABASE_READ_URL : env.DATABASE_READ_URL,
    env,
    problems,
  );
  let secretKeys: Buffer[] | undefined;
  if (env.WXHUB_SECRET_KEY !== undefined) {
    const r = parseSecretKeys(env.WXHUB_SECRET_KEY);
    if ('error' in r) problems.push(`WXHUB_SECRET_KEY: ${r.error}`);
    else secretKeys = r.keys;
  } else if (database.dialect === 'mysql') {
    problems.push('WXHUB_SECRET_KEY: required when the database is MySQL (32 bytes, base64)');
  }
  // Trust on a service the public can reach lets anyone forge x-wx-source: refused, not warned.
  if (parsed.ok && parsed.value.WXHUB_EXPOSE === 'public' && parsed.value.WXHUB_TRUST_WX_SOURCE) {
    problems.push(
      'WXHUB_TRUST_WX_SOURCE: must be 0 with WXHUB_EXPOSE=public (x-wx-source can be trusted ' +
        'only on a service with public access off)',
    );
  }
  if ((env.WXHUB_ADMIN_USER === undefined) !== (env.WXHUB_ADMIN_PASSWORD === undefined)) {
    const missing =
      env.WXHUB_ADMIN_USER === undefined ? 'WXHUB_ADMIN_USER' : 'WXHUB_ADMIN_PASSWORD';
    problems.push(`${missing}: required with the other of WXHUB_ADMIN_USER / WXHUB_ADMIN_PASSWORD`);
  }
  if (!parsed.ok || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.value;

  const appsText = e.WXHUB_APPS;
  return {
    database,
    apps:
      appsText === undefined
        ? undefined
        : appsText.startsWith('@')
          ? { kind: 'file', path: appsText.slice(1) }
          : { kind: 'inline', text: appsText },
    apiKeys: e.WXHUB_API_KEYS ?? [],
    trustWxSource: e.WXHUB_TRUST_WX_SOURCE,
    expose: e.WXHUB_EXPOSE,
    secretKeys,
    wechatApiBase: e.WECHAT_API_BASE,
    wechatMpBase: e.WECHAT_MP_BASE,
    wechatOpenBase: e.WECHAT_OPEN_BASE,
    douyinApiBase: e.DOUYIN_API_BASE,
    aliyunSmsEndpoint: e.ALIYUN_SMS_ENDPOINT,
    cosEndpoint: e.COS_ENDPOINT,
    wechatPayApiBase: e.WECHATPAY_API_BASE,
    wecomApiBase: e.WECOM_API_BASE,
    fengniaoApiBase: e.FENGNIAO_API_BASE,
    shansongApiBase: e.SHANSONG_API_BASE,
    publicUrl: e.WXHUB_PUBLIC_URL,
    refreshAheadSeconds: e.WXHUB_REFRESH_AHEAD_SECONDS,
    refreshIntervalSeconds: e.WXHUB_REFRESH_INTERVAL_SECONDS,
    bodyLimitBytes: e.WXHUB_BODY_LIMIT_BYTES,
    proxyBodyLimitBytes: e.WXHUB_PROXY_BODY_LIMIT_BYTES,
    proxyTimeoutMs: e.WXHUB_PROXY_TIMEOUT_MS,
    proxyMaxBytes: e.WXHUB_PROXY_MAX_BYTES,
    callbackMaxSkewSeconds: e.WXHUB_CALLBACK_MAX_SKEW_SECONDS,
    forwardBudgetMs: e.WXHUB_FORWARD_BUDGET_MS,
    outboxMaxAttempts: e.WXHUB_OUTBOX_MAX_ATTEMPTS,
    messageRetentionDays: e.WXHUB_MESSAGE_RETENTION_DAYS,
    admin:
      e.WXHUB_ADMIN_USER === undefined || e.WXHUB_ADMIN_PASSWORD === undefined
        ? undefined
        : { user: e.WXHUB_ADMIN_USER, password: e.WXHUB_ADMIN_PASSWORD },
    adminSessionIdleSeconds: e.WXHUB_ADMIN_SESSION_IDLE_SECONDS,
    adminSessionMaxSeconds: e.WXHUB_ADMIN_SESSION_MAX_SECONDS,
    jwtIssuer: e.WXHUB_JWT_ISSUER,
    jwtTtlSeconds: e.WXHUB_JWT_TTL_SECONDS,
    jwtKeyRotationDays: e.WXHUB_JWT_KEY_ROTATION_DAYS,
    dataDir: e.WXHUB_DATA_DIR,
    metricsKey: e.WXHUB_METRICS_KEY,
    alertWebhook: e.WXHUB_ALERT_WEBHOOK,
    tracing: tracingConfig(e),
    port: e.PORT ?? 3000,
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * Traces go to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, or to
 * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces` (https://opentelemetry.io/docs/specs/otel/protocol/exporter/);
 * none when neither is set or `OTEL_TRACES_EXPORTER=none`.
 */
function tracingConfig(e: Env): Config['tracing'] {
  if (e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const url =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? undefined
      : `${e.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`);
  return url === undefined ? undefined : { url, serviceName: e.OTEL_SERVICE_NAME ?? 'wxhub' };
}
