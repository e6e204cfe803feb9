import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import * as z from 'zod/mini';
import './zod-locale';

/** Account kinds wxhub knows (api.md). */
export const APP_KINDS = ['official', 'miniprogram', 'component', 'wecom', 'douyin'] as const;
export type AppKind = (typeof APP_KINDS)[number];

export const TOKEN_MODES = ['stable', 'classic'] as const;
export type TokenMode = (typeof TOKEN_MODES)[number];

/** `name` of an app or merchant: used in URLs and as the owner of stored rows. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const name = z.string().check(
  z.regex(NAME_PATTERN, {
    message: 'must match [a-z0-9][a-z0-9_-]{0,63} (lower case, digits, _ and -)',
  }),
);

const httpUrl = z
  .string()
  .check(z.refine((v) => /^https?:\/\/[^\s/]+\S*$/.test(v), { message: 'must be an http(s) URL' }));

const forwardRule = z.strictObject({
  url: httpUrl,
  match: z.optional(z.record(z.string(), z.union([z.string(), z.array(z.string())]))),
  timeoutMs: z.optional(z.int().check(z.minimum(100), z.maximum(4500))),
});
export type ForwardRule = z.infer<typeof forwardRule>;

const pem = (kind: 'private' | 'public' | 'certificate') =>
  z.string().check(
    z.refine(
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
      { message: `must be a PEM ${kind === 'certificate' ? 'X.509 certificate' : `${kind} key`}` },
    ),
  );

const appSchema = z.strictObject({
  name,
  kind: z.enum(APP_KINDS, { message: `must be one of ${APP_KINDS.join(', ')}` }),
  appId: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{4,64}$/, { message: 'must be an app id such as wx…' })),
  appSecret: z.optional(
    z.string().check(z.minLength(1, { message: 'must not be empty' }), z.maxLength(256)),
  ),
  token: z.optional(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9]{3,32}$/, { message: 'must be 3 to 32 letters or digits' })),
  ),
  encodingAesKey: z.optional(
    z
      .string()
      .check(z.regex(/^[A-Za-z0-9]{43}$/, { message: 'must be exactly 43 letters or digits' })),
  ),
  tokenMode: z._default(z.enum(TOKEN_MODES, { message: 'must be stable or classic' }), 'stable'),
  forward: z._default(z.array(forwardRule), []),
});
export type AppConfig = z.infer<typeof appSchema>;

const platformCertificate = z.strictObject({
  serialNo: z.string().check(z.regex(/^[0-9A-Fa-f]{8,64}$/, { message: 'must be a hex serial' })),
  certificate: pem('certificate'),
});

const merchantSchema = z
  .strictObject({
    name,
    mchId: z
      .string()
      .check(z.regex(/^\d{6,16}$/, { message: 'must be the merchant number (digits)' })),
    appId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{4,64}$/))),
    apiV3Key: z
      .string()
      .check(z.refine((v) => Buffer.byteLength(v) === 32, { message: 'must be exactly 32 bytes' })),
    serialNo: z.string().check(
      z.regex(/^[0-9A-Fa-f]{8,64}$/, {
        message: 'must be the hex serial of the merchant API certificate',
      }),
    ),
    privateKey: pem('private'),
    publicKeyId: z.optional(
      z
        .string()
        .check(z.regex(/^PUB_KEY_ID_[0-9A-Za-z]+$/, { message: 'must look like PUB_KEY_ID_…' })),
    ),
    publicKey: z.optional(pem('public')),
    platformCertificates: z._default(z.array(platformCertificate), []),
    forward: z._default(z.array(z.omit(forwardRule, { match: true })), []),
  })
  .check(
    z.superRefine((m, ctx) => {
      if ((m.publicKeyId === undefined) !== (m.publicKey === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [m.publicKey === undefined ? 'publicKey' : 'publicKeyId'],
          message: 'publicKeyId and publicKey go together',
        });
      }
    }),
  );
export type MerchantConfig = z.infer<typeof merchantSchema>;

const appsFileSchema = z.strictObject({
  apps: z._default(z.array(z.unknown()), []),
  merchants: z._default(z.array(z.unknown()), []),
});

export interface AppsFile {
  apps: AppConfig[];
  merchants: MerchantConfig[];
}

/** Thrown when the apps file is invalid; `problems` names each bad entry and field, never a value. */
export class AppsFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`WXHUB_APPS is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'AppsFileError';
  }
}

function describeIssues(prefix: string, error: z.core.$ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`));
    const field = path.join('').replace(/^\./, '');
    return `${prefix}${field ? ` ${field}` : ''}: ${issue.message}`;
  });
}

function label(kind: 'apps' | 'merchants', index: number, entry: unknown): string {
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
  const top = appsFileSchema.safeParse(json);
  if (!top.success) throw new AppsFileError(describeIssues('file', top.error));

  const problems: string[] = [];
  const apps: AppConfig[] = [];
  const merchants: MerchantConfig[] = [];
  top.data.apps.forEach((entry, i) => {
    const r = appSchema.safeParse(entry);
    if (r.success) apps.push(r.data);
    else problems.push(...describeIssues(label('apps', i, entry), r.error));
  });
  top.data.merchants.forEach((entry, i) => {
    const r = merchantSchema.safeParse(entry);
    if (r.success) merchants.push(r.data);
    else problems.push(...describeIssues(label('merchants', i, entry), r.error));
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
  if (problems.length > 0) throw new AppsFileError(problems);
  return { apps, merchants };
}
