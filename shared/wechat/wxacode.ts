import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../http/errors';
import type { Deps } from '../platform/deps';
import type { AppRecord, WxacodeKey } from '../store';
import { type AppCallDeps, postWithAppToken, type WechatImage, wechatImage } from './app-call';

/**
 * Mini program codes (小程序码) and the square QR code
 * (https://developers.weixin.qq.com/miniprogram/dev/server/API/qrcode-link/qr-code/api_getunlimitedqrcode).
 * `unlimited` has no quota and is generated on every request. `limited` (`getwxacode`) and
 * `qrcode` (`createwxaqrcode`) share a lifetime quota of 100,000 per app (errcode 45029 once
 * spent): the hub stores each one it generates, keyed by app, kind and its canonical parameters,
 * and answers the stored image for the same request, so a retried request never spends quota.
 */

export const WXACODE_TYPES = ['unlimited', 'limited', 'qrcode'] as const;
export type WxacodeType = (typeof WXACODE_TYPES)[number];

export const WXACODE_PATHS: Readonly<Record<WxacodeType, string>> = {
  unlimited: '/wxa/getwxacodeunlimit',
  limited: '/wxa/getwxacode',
  qrcode: '/cgi-bin/wxaapp/createwxaqrcode',
};

/** The lifetime quota `limited` and `qrcode` share, per app (45029 once spent). */
export const WXACODE_LIFETIME_QUOTA = 100_000;

/**
 * Largest image stored or answered. WeChat's codes are tens to hundreds of KiB at the widest
 * (1280 px); the column is a MEDIUMBLOB (16 MiB), and MySQL's `max_allowed_packet` (16 MiB on
 * MariaDB, 64 MiB on MySQL 8) bounds one statement, so 4 MiB leaves room on every server.
 */
export const MAX_WXACODE_BYTES = 4 * 1024 * 1024;

/** WeChat's defaults, filled in before hashing: `{path}` and `{path, width: 430}` are one code. */
const DEFAULTS: Readonly<Record<Exclude<WxacodeType, 'unlimited'>, Record<string, unknown>>> = {
  limited: {
    width: 430,
    auto_color: false,
    line_color: { r: 0, g: 0, b: 0 },
    is_hyaline: false,
    env_version: 'release',
  },
  qrcode: { width: 430 },
};

/** JSON with object keys sorted at every level: one text per set of parameters. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 (hex) of a limited kind's parameters, WeChat's defaults filled in and keys sorted. */
export function wxacodeParamsHash(
  type: Exclude<WxacodeType, 'unlimited'>,
  params: Record<string, unknown>,
): string {
  const canonical = canonicalJson({ ...DEFAULTS[type], ...params });
  return createHash('sha256').update(`${type}\n${canonical}`).digest('hex');
}

/** A code as answered: the image, whether it came from the store, and the quota spent so far. */
export interface WxacodeAnswer extends WechatImage {
  /** `stored`: answered from the store, no upstream call; `generated`: WeChat made it now. */
  source: 'stored' | 'generated';
  /** Limited kinds: how many codes of the two limited kinds this hub has stored for the app. */
  quotaUsed?: number;
}

export type WxacodeDeps = AppCallDeps & Pick<Deps, 'instanceId' | 'log'>;

export interface WxacodeOptions {
  /** How long a generation holds its row; a crashed generator's lease frees itself after this. */
  leaseMs: number;
  /** Longest wait for another request's generation of the same code before a 503. */
  waitMs: number;
  pollMs: number;
}

/** Options from the WeChat timeout: a generation is at most two calls (a dead-token retry). */
export function wxacodeOptions(wechatTimeoutMs: number): WxacodeOptions {
  const leaseMs = 2 * wechatTimeoutMs + 10_000;
  return { leaseMs, waitMs: leaseMs + 2_000, pollMs: 50 };
}

async function generate(
  deps: WxacodeDeps,
  app: AppRecord,
  type: WxacodeType,
  params: Record<string, unknown>,
): Promise<WechatImage> {
  const path = WXACODE_PATHS[type];
  return wechatImage(await postWithAppToken(deps, app, path, params), path, MAX_WXACODE_BYTES);
}

/**
 * A code of `type` for `params` (WeChat's body fields). `unlimited` is generated each time. The
 * limited kinds are answered from the store when generated before; otherwise one request takes
 * the lease on the code's row and calls WeChat while identical requests (on any instance) wait
 * and read what it stored. A refusal from WeChat (45029 quota spent, 41030 bad page…) frees the
 * row, stores nothing and is answered 502 with the errcode.
 */
export async function getWxacode(
  deps: WxacodeDeps,
  app: AppRecord,
  type: WxacodeType,
  params: Record<string, unknown>,
  opts: WxacodeOptions = wxacodeOptions(deps.wechat.timeoutMs),
): Promise<WxacodeAnswer> {
  if (type === 'unlimited')
    return { ...(await generate(deps, app, type, params)), source: 'generated' };
  const key: WxacodeKey = {
    appId: app.appId,
    kind: type,
    paramsHash: wxacodeParamsHash(type, params),
  };
  const answer = async (image: WechatImage, source: WxacodeAnswer['source']) => ({
    ...image,
    source,
    quotaUsed: await deps.store.wxacodes.countGenerated(app.appId),
  });
  const started = performance.now();
  for (;;) {
    const row = await deps.store.wxacodes.get(key);
    if (row?.image !== undefined) {
      const contentType = row.contentType ?? 'application/octet-stream';
      return answer({ bytes: row.image, contentType }, 'stored');
    }
    const owner = `${deps.instanceId}:${randomBytes(6).toString('hex')}`;
    if (await deps.store.wxacodes.claim(key, owner, deps.clock.now(), opts.leaseMs)) {
      let image: WechatImage;
      try {
        image = await generate(deps, app, type, params);
      } catch (err) {
        // Not released (database down): the lease expires instead. WeChat's error is the answer.
        await deps.store.wxacodes.release(key, owner).catch(() => undefined);
        throw err;
      }
      await keep(deps, key, owner, image, app);
      return answer(image, 'generated');
    }
    if (performance.now() - started > opts.waitMs) {
      throw new AppError(
        'UNAVAILABLE',
        'this code is being generated by another request; retry shortly',
      );
    }
    await sleep(opts.pollMs);
  }
}

/** Stores a generated image; WeChat already spent the quota, so a failure here is only logged. */
async function keep(
  deps: WxacodeDeps,
  key: WxacodeKey,
  owner: string,
  image: WechatImage,
  app: AppRecord,
): Promise<void> {
  try {
    const code = { image: image.bytes, contentType: image.contentType };
    if (!(await deps.store.wxacodes.save(key, owner, code, deps.clock.now()))) {
      deps.log.warn({ app: app.name, kind: key.kind }, 'wxacode: lease lost before storing');
    }
  } catch (err) {
    // Cut: a failed query's message repeats its parameters, the image among them.
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 200);
    deps.log.error({ app: app.name, kind: key.kind, error: message }, 'wxacode: not stored');
  }
}
