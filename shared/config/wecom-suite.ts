import type { AppConfig } from './apps';
import {
  bool,
  type Check,
  INVALID,
  matches,
  maxLength,
  minLength,
  object,
  optional,
  str,
  withDefault,
} from './validate';

/**
 * A WeCom third-party suite (`kind: wecom-suite`) as the apps file writes it: `suiteId`,
 * `suiteSecret`, `token`, `encodingAesKey` (the suite's callback settings) and `providerCorpId`
 * (the service provider's own corpid, which WeCom uses as ReceiveId when it verifies the
 * suite's URLs, https://developer.work.weixin.qq.com/document/path/91144). It is stored as an
 * app: `appId` = suiteId, `appSecret` = suiteSecret (sealed like every app secret).
 */
export interface WecomSuiteEntry {
  name: string;
  kind: 'wecom-suite';
  suiteId: string;
  suiteSecret: string;
  token: string;
  encodingAesKey: string;
  providerCorpId: string;
  forward: AppConfig['forward'];
  enabled?: boolean | undefined;
}

/** A WeCom id (suite ids `ww…`/`wx…`, corpids `ww…`): letters, digits, `_` and `-`. */
export const WECOM_ID = /^[A-Za-z0-9_-]{4,64}$/;

/**
 * The entry as the apps file writes it, also from the stored form (`appId`, `appSecret`,
 * `tokenMode`: what the hub writes back, e.g. `npm run dev`'s file or the admin API).
 */
function asWritten(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const { appId, appSecret, tokenMode, ...rest } = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  if (appId !== undefined && out.suiteId === undefined) out.suiteId = appId;
  else if (appId !== undefined) out.appId = appId;
  if (appSecret !== undefined && out.suiteSecret === undefined) out.suiteSecret = appSecret;
  else if (appSecret !== undefined) out.appSecret = appSecret;
  // Suites have no token mode: the stored `classic` is taken, anything else is refused.
  if (tokenMode !== undefined && tokenMode !== 'classic') out.tokenMode = tokenMode;
  return out;
}

/**
 * Checks a `wecom-suite` entry (strict: another kind's fields are refused) and turns it into the
 * app it is stored as. `name` and `forward` are checked by the caller's shared checks.
 */
export function wecomSuiteSchema(
  name: Check<string>,
  forward: Check<AppConfig['forward']>,
): Check<AppConfig> {
  const fields = object(
    {
      name,
      kind: str(matches(/^wecom-suite$/, 'must be wecom-suite')),
      suiteId: str(matches(WECOM_ID, 'must be the suite id (SuiteID) such as ww…')),
      suiteSecret: str(minLength(1, 'must not be empty'), maxLength(256)),
      token: str(matches(/^[A-Za-z0-9]{3,32}$/, 'must be 3 to 32 letters or digits')),
      encodingAesKey: str(matches(/^[A-Za-z0-9]{43}$/, 'must be exactly 43 letters or digits')),
      providerCorpId: str(matches(WECOM_ID, "must be the provider's corpid such as ww…")),
      forward: withDefault(forward, []),
      enabled: optional(bool()),
    },
    { strict: true },
  );
  return (value, path, issues) => {
    const e = fields(asWritten(value), path, issues);
    if (e === INVALID) return INVALID;
    return {
      name: e.name,
      kind: 'wecom-suite',
      appId: e.suiteId,
      appSecret: e.suiteSecret,
      token: e.token,
      encodingAesKey: e.encodingAesKey,
      providerCorpId: e.providerCorpId,
      tokenMode: 'classic',
      forward: e.forward,
      ...(e.enabled === undefined ? {} : { enabled: e.enabled }),
    };
  };
}
