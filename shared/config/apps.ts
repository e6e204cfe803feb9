import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { isBranded } from '../http/errors';
import { redirectEntryProblem } from '../oauth/redirects';
import { deliveryAppProblem } from './delivery-apps';
import { MESSAGE_MODES, type MessageMode } from './message-mode';
import {
  type CosBucketConfig,
  cosBucketSchema,
  type SmsSenderConfig,
  smsSenderSchema,
} from './signing-entries';
import {
  array,
  bool,
  type Check,
  either,
  INVALID,
  type Issue,
  int,
  matches,
  maxLength,
  minLength,
  object,
  oneOf,
  optional,
  record,
  refine,
  str,
  validate,
  where,
  withDefault,
} from './validate';
import { wecomEntry, wecomIssue } from './wecom-app';
import { wecomSuiteSchema } from './wecom-suite';

export { MESSAGE_MODES, type MessageMode, messageModeOf } from './message-mode';

/** Account kinds wxhub knows (docs/api.md). */
export const APP_KINDS = [
  'official',
  'miniprogram',
  'component',
  'wecom',
  'douyin',
  'fengniao',
  'shansong',
  'wecom-suite',
] as const;
export type AppKind = (typeof APP_KINDS)[number];

export const TOKEN_MODES = ['stable', 'classic'] as const;
export type TokenMode = (typeof TOKEN_MODES)[number];

/** Kinds that receive WeChat's signed pushes and so may set `messageMode`. */
const MESSAGE_MODE_KINDS: readonly AppKind[] = ['official', 'miniprogram', 'component'];

/** `name` of an app or merchant: used in URLs and as the owner of stored rows. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const name = str(
  matches(NAME_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63} (lower case, digits, _ and -)'),
);

/** Whether URL `v` carries `user:password@` (or just `user@`). */
function hasUserInfo(v: string): boolean {
  try {
    const u = new URL(v);
    return u.username !== '' || u.password !== '';
  } catch {
    return /^[^/]*\/\/[^/?#]*@/.test(v);
  }
}

const httpUrl = str(
  refine((v) => /^https?:\/\/[^\s/]+\S*$/.test(v), 'must be an http(s) URL'),
  refine(
    (v) => !hasUserInfo(v),
    'must not carry user:password@ (fetch refuses it and repeats the URL in its error); ' +
      'put a key in the path or query instead',
  ),
);

/** Where and when a stored push or notification is forwarded (docs/api.md, apps file). */
export interface ForwardRule {
  url: string;
  /** Field → value or values a push must carry to be forwarded by this rule. */
  match?: Record<string, string | string[]>;
  timeoutMs?: number;
}

const forwardShape = {
  url: httpUrl,
  match: optional(record(either(str(), array(str())))),
  timeoutMs: optional(int(100, 4500)),
};
const forwardRule: Check<ForwardRule> = object(forwardShape, { strict: true });
const { match: _appsOnly, ...payForwardShape } = forwardShape;
const payForwardRule: Check<Omit<ForwardRule, 'match'>> = object(payForwardShape, { strict: true });

const pem = (kind: 'private' | 'public' | 'certificate') =>
  str(
    refine(
      (v) => {
        try {
          if (kind === 'private') createPrivateKey(v);
          else if (kind === 'public') createPublicKey(v);
          else new X509Certificate(v);
          return true;
        } catch {
          return false;
        }
      },
      `must be a PEM ${kind === 'certificate' ? 'X.509 certificate' : `${kind} key`}`,
    ),
  );

/** One account of the apps file (docs/api.md). */
export interface AppConfig {
  name: string;
  kind: AppKind;
  appId: string;
  appSecret?: string;
  token?: string;
  encodingAesKey?: string;
  tokenMode: TokenMode;
  /** Absent: {@link messageModeOf} picks the default. */
  messageMode?: MessageMode;
  forward: ForwardRule[];
  /** Components only: where the browser goes after an authorization (https; http for localhost). */
  authRedirectUrl?: string;
  /**
   * Official accounts only: where `GET /oauth/{app}/authorize` may send the browser back to
   * (shared/oauth/redirects.ts has the matching rules).
   */
  oauthRedirects?: string[];
  /**
   * Official accounts only: the name of the `component` app this account authorized; its OAuth
   * then runs on the platform's behalf (`component_appid`), and the account needs no appSecret.
   */
  oauthComponent?: string;
  /** WeCom apps only: the app's AgentId (`agentId`); `appId` is then the corp id. */
  agentId?: number;
  /** Fengniao apps only: the developer id (`dev_id`) of the merchant authorization page. */
  devId?: string;
  /** WeCom suites only: the service provider's corpid (ReceiveId of URL verification). */
  providerCorpId?: string;
  /** `false` disables the app at the next sync; absent means enabled. */
  enabled?: boolean;
}

/** An https URL, or an http one on the local machine (a developer's own page). */
const browserUrl = str(
  refine((v) => {
    try {
      const u = new URL(v);
      const local = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
      return u.protocol === 'https:' || (u.protocol === 'http:' && local);
    } catch {
      return false;
    }
  }, 'must be an https URL (http only for localhost)'),
);

const appFields: Check<AppConfig> = object(
  {
    name,
    kind: oneOf(APP_KINDS, `must be one of ${APP_KINDS.join(', ')}`),
    appId: str(matches(/^[A-Za-z0-9_-]{4,64}$/, 'must be an app id such as wx…')),
    appSecret: optional(str(minLength(1, 'must not be empty'), maxLength(256))),
    token: optional(str(matches(/^[A-Za-z0-9]{3,32}$/, 'must be 3 to 32 letters or digits'))),
    encodingAesKey: optional(
      str(matches(/^[A-Za-z0-9]{43}$/, 'must be exactly 43 letters or digits')),
    ),
    tokenMode: withDefault(oneOf(TOKEN_MODES, 'must be stable or classic'), 'stable'),
    messageMode: optional(oneOf(MESSAGE_MODES, 'must be plain, compatible or safe')),
    forward: withDefault(array(forwardRule), []),
    authRedirectUrl: optional(browserUrl),
    oauthRedirects: optional(
      where(array(str(maxLength(2048), redirectEntryProblem)), (v) =>
        v.length > 50 ? 'must list at most 50 URLs' : undefined,
      ),
    ),
    oauthComponent: optional(name),
    agentId: optional(int(1, 2 ** 31 - 1)),
    devId: optional(str(matches(/^[A-Za-z0-9_-]{1,64}$/, 'must be the developer id (digits)'))),
    enabled: optional(bool()),
  },
  { strict: true },
);

const isEntry = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The common checks, after a WeCom entry's own names were turned into the common ones. */
const kindFields: Check<AppConfig> = (value, path, issues) => {
  if (!isEntry(value) || value.kind !== 'wecom') {
    const app = appFields(value, path, issues);
    if (app !== INVALID && app.agentId !== undefined) {
      issues.push({ path: [...path, 'agentId'], message: 'applies to wecom apps only' });
      return INVALID;
    }
    return app;
  }
  const converted = wecomEntry(value, path, issues);
  if (converted === INVALID) return INVALID;
  const found: Issue[] = [];
  const app = appFields(converted, path, found);
  issues.push(...found.map((i) => wecomIssue(value, path.length, i)));
  return app;
};

/** Built on the first suite entry read (every function's start reads the apps file). */
let wecomSuite: Check<AppConfig> | undefined;

const appSchema: Check<AppConfig> = (value, path, issues) => {
  // A WeCom suite has fields of its own (suiteId, suiteSecret, providerCorpId).
  if ((value as { kind?: unknown } | null)?.kind === 'wecom-suite') {
    wecomSuite ??= wecomSuiteSchema(name, array(forwardRule));
    return wecomSuite(value, path, issues);
  }
  const app = kindFields(value, path, issues);
  if (app !== INVALID && app.authRedirectUrl !== undefined && app.kind !== 'component') {
    issues.push({ path: [...path, 'authRedirectUrl'], message: 'applies to component apps only' });
    return INVALID;
  }
  if (app !== INVALID && app.devId !== undefined && app.kind !== 'fengniao') {
    issues.push({ path: [...path, 'devId'], message: 'applies to fengniao apps only' });
    return INVALID;
  }
  const platformProblem = app === INVALID ? undefined : deliveryAppProblem(app);
  if (platformProblem !== undefined) {
    issues.push({ path: [...path, platformProblem.field], message: platformProblem.message });
    return INVALID;
  }
  if (app !== INVALID && app.kind !== 'official') {
    for (const field of ['oauthRedirects', 'oauthComponent'] as const) {
      if (app[field] === undefined) continue;
      issues.push({ path: [...path, field], message: 'applies to official apps only' });
      return INVALID;
    }
  }
  if (app === INVALID || app.messageMode === undefined) return app;
  if (!MESSAGE_MODE_KINDS.includes(app.kind)) {
    issues.push({
      path: [...path, 'messageMode'],
      message: `applies to ${MESSAGE_MODE_KINDS.join(', ')} apps only`,
    });
    return INVALID;
  }
  if (app.messageMode !== 'plain' && app.encodingAesKey === undefined) {
    issues.push({
      path: [...path, 'messageMode'],
      message: `${app.messageMode} needs encodingAesKey`,
    });
    return INVALID;
  }
  return app;
};

const platformCertificate = object(
  {
    serialNo: str(matches(/^[0-9A-Fa-f]{8,64}$/, 'must be a hex serial')),
    certificate: pem('certificate'),
  },
  { strict: true },
);

/** One WeChat Pay merchant of the apps file (docs/api.md). */
export interface MerchantConfig {
  name: string;
  mchId: string;
  appId?: string;
  apiV3Key: string;
  serialNo: string;
  privateKey: string;
  publicKeyId?: string;
  publicKey?: string;
  platformCertificates: { serialNo: string; certificate: string }[];
  forward: Omit<ForwardRule, 'match'>[];
  /** `false` disables the merchant at the next sync; absent means enabled. */
  enabled?: boolean;
}

const merchantFields: Check<MerchantConfig> = object(
  {
    name,
    mchId: str(matches(/^\d{6,16}$/, 'must be the merchant number (digits)')),
    appId: optional(str(matches(/^[A-Za-z0-9_-]{4,64}$/))),
    apiV3Key: str(refine((v) => Buffer.byteLength(v) === 32, 'must be exactly 32 bytes')),
    serialNo: str(
      matches(/^[0-9A-Fa-f]{8,64}$/, 'must be the hex serial of the merchant API certificate'),
    ),
    privateKey: pem('private'),
    publicKeyId: optional(str(matches(/^PUB_KEY_ID_[0-9A-Za-z]+$/, 'must look like PUB_KEY_ID_…'))),
    publicKey: optional(pem('public')),
    platformCertificates: withDefault(array(platformCertificate), []),
    forward: withDefault(array(payForwardRule), []),
    enabled: optional(bool()),
  },
  { strict: true },
);

/**
 * A certificate serial in the one form serials are compared in: upper case, without leading
 * zeros (a library printing the DER integer may write a `00` sign byte; WeChat Pay's
 * `Wechatpay-Serial` has none).
 */
export const serialKey = (serial: string): string => serial.toUpperCase().replace(/^0+(?=.)/, '');

/**
 * Each platform certificate with its serial taken from the certificate itself (as Node and
 * WeChat Pay print it), or an issue naming both serials when the one written is another
 * certificate's: every notification signed with it would then be refused.
 */
function certificateSerials(m: MerchantConfig, path: Issue['path'], issues: Issue[]) {
  let ok = true;
  const platformCertificates = m.platformCertificates.map((c, i) => {
    const actual = new X509Certificate(c.certificate).serialNumber.toUpperCase();
    if (serialKey(actual) !== serialKey(c.serialNo)) {
      issues.push({
        path: [...path, 'platformCertificates', i, 'serialNo'],
        message: `is ${c.serialNo.toUpperCase()} but the certificate's serial is ${actual}`,
      });
      ok = false;
    }
    return { serialNo: actual, certificate: c.certificate };
  });
  return ok ? { ...m, platformCertificates } : INVALID;
}

const merchantSchema: Check<MerchantConfig> = (value, path, issues) => {
  const fields = merchantFields(value, path, issues);
  const merchant = fields === INVALID ? fields : certificateSerials(fields, path, issues);
  // Checked on the entry as written, so one read reports this with the fields' own problems.
  if (typeof value === 'object' && value !== null) {
    const has = (k: string) => (value as Record<string, unknown>)[k] !== undefined;
    if (has('publicKeyId') !== has('publicKey')) {
      issues.push({
        path: [...path, has('publicKey') ? 'publicKeyId' : 'publicKey'],
        message: 'publicKeyId and publicKey go together',
      });
      return INVALID;
    }
  }
  return merchant;
};

const appsFileSchema = object(
  {
    apps: withDefault(
      array((v: unknown) => v),
      [],
    ),
    merchants: withDefault(
      array((v: unknown) => v),
      [],
    ),
    sms: withDefault(
      array((v: unknown) => v),
      [],
    ),
    cos: withDefault(
      array((v: unknown) => v),
      [],
    ),
  },
  { strict: true },
);

export interface AppsFile {
  apps: AppConfig[];
  merchants: MerchantConfig[];
  /** Aliyun SMS senders (shared/config/signing-entries.ts). */
  sms?: SmsSenderConfig[];
  /** Tencent COS buckets (shared/config/signing-entries.ts). */
  cos?: CosBucketConfig[];
}

const APPS_FILE_ERROR = Symbol.for('wxhub.AppsFileError');

/** Thrown when the apps file is invalid; `problems` names each bad entry and field, never a value. */
export class AppsFileError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, APPS_FILE_ERROR);
  }
  readonly [APPS_FILE_ERROR] = true;
  constructor(readonly problems: string[]) {
    super(`WXHUB_APPS is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'AppsFileError';
  }
}

function describeIssues(prefix: string, issues: Issue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`));
    const field = path.join('').replace(/^\./, '');
    return `${prefix}${field ? ` ${field}` : ''}: ${issue.message}`;
  });
}

function label(kind: 'apps' | 'merchants' | 'sms' | 'cos', index: number, entry: unknown): string {
  const n = typeof entry === 'object' && entry !== null && 'name' in entry ? entry.name : undefined;
  return typeof n === 'string' && NAME_PATTERN.test(n)
    ? `${kind}[${index}] "${n}"`
    : `${kind}[${index}]`;
}

function checkUnique(problems: string[], kind: string, names: string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) problems.push(`${kind}: name "${n}" appears more than once`);
    seen.add(n);
  }
}

/** One entry checked by the apps file's own rules: the value, or one line per problem. */
export type EntryResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

function checkEntry<T>(check: Check<T>, what: string, entry: unknown): EntryResult<T> {
  const r = validate(check, entry);
  return r.ok
    ? { ok: true, value: r.value }
    : { ok: false, problems: describeIssues(what, r.issues) };
}

/** Validates one app as the apps file would (the admin API's apps); values never echoed. */
export const parseAppEntry = (entry: unknown): EntryResult<AppConfig> =>
  checkEntry(appSchema, 'app', entry);

/** Validates one merchant as the apps file would; values never echoed. */
export const parseMerchantEntry = (entry: unknown): EntryResult<MerchantConfig> =>
  checkEntry(merchantSchema, 'merchant', entry);

/**
 * Validates the apps file's JSON text. Every bad entry is reported with its index, its name when
 * readable and the field at fault; values (secrets) are never echoed.
 *
 * @example parseAppsFile('{"apps":[{"name":"oa","kind":"official","appId":"wx1234"}]}')
 */
export function parseAppsFile(text: string): AppsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppsFileError(['not valid JSON']);
  }
  const top = validate(appsFileSchema, json);
  if (!top.ok) throw new AppsFileError(describeIssues('file', top.issues));

  const problems: string[] = [];
  const apps: AppConfig[] = [];
  const merchants: MerchantConfig[] = [];
  top.value.apps.forEach((entry, i) => {
    const r = validate(appSchema, entry);
    if (r.ok) apps.push(r.value);
    else problems.push(...describeIssues(label('apps', i, entry), r.issues));
  });
  top.value.merchants.forEach((entry, i) => {
    const r = validate(merchantSchema, entry);
    if (r.ok) merchants.push(r.value);
    else problems.push(...describeIssues(label('merchants', i, entry), r.issues));
  });
  checkUnique(
    problems,
    'apps',
    apps.map((a) => a.name),
  );
  checkUnique(
    problems,
    'merchants',
    merchants.map((m) => m.name),
  );
  const sms = entries(top.value.sms, smsSenderSchema, 'sms', problems);
  const cos = entries(top.value.cos, cosBucketSchema, 'cos', problems);
  if (problems.length > 0) throw new AppsFileError(problems);
  return {
    apps,
    merchants,
    ...(sms.length > 0 ? { sms } : {}),
    ...(cos.length > 0 ? { cos } : {}),
  };
}

/** The entries of one named list, each checked, every problem reported, names unique. */
function entries<T extends { name: string }>(
  list: unknown[],
  check: Check<T>,
  kind: 'sms' | 'cos',
  problems: string[],
): T[] {
  const out: T[] = [];
  list.forEach((entry, i) => {
    const r = validate(check, entry);
    if (r.ok) out.push(r.value);
    else problems.push(...describeIssues(label(kind, i, entry), r.issues));
  });
  checkUnique(
    problems,
    kind,
    out.map((e) => e.name),
  );
  return out;
}
