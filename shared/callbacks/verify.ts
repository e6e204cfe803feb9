import { createHash } from 'node:crypto';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { AppError } from '../http/errors';
import type { AppRecord, UsedSignature } from '../store';
import { assertReadable } from '../store/unreadable';
import {
  aesKeyOf,
  decryptMessage,
  MessageCryptoError,
  signatureOf,
  wechatSignature,
} from '../wechat/message-crypto';
import { type PushBody, parsePushBody } from './message';

/** What verifying a callback needs: the clock and the accepted timestamp skew. */
export interface VerifyDeps {
  clock: Clock;
  config: Pick<Config, 'callbackMaxSkewSeconds'>;
}

/** The query WeChat puts on callback URLs. */
export interface CallbackQuery {
  signature?: string | undefined;
  timestamp?: string | undefined;
  nonce?: string | undefined;
  echostr?: string | undefined;
  encrypt_type?: string | undefined;
  msg_signature?: string | undefined;
}

/**
 * Which WeChat-facing push route is asked: the message URL of an account (`/wx/{app}/callback`),
 * a third-party platform's authorization-event URL (`/wx/{app}/component/event`) or its
 * message-and-event URL for its authorizers (`/wx/{app}/component/message/{appid}`).
 */
export type PushRoute =
  | 'callback'
  | 'component-event'
  | 'component-message'
  | 'suite-command'
  | 'suite-data';

/**
 * WeCom's routes: always encrypted, signed with `msg_signature` only (no `encrypt_type`), the
 * ReceiveId given by the route (https://developer.work.weixin.qq.com/document/path/91144).
 */
const WECOM_ROUTES: ReadonlySet<PushRoute> = new Set(['suite-command', 'suite-data']);

const ROUTE_KINDS: Record<PushRoute, { kinds: ReadonlySet<string>; text: string }> = {
  callback: {
    kinds: new Set(['official', 'miniprogram', 'wecom']),
    text: '/wx/{app}/callback is for official, miniprogram and wecom apps',
  },
  'component-event': {
    kinds: new Set(['component']),
    text: '/wx/{app}/component/event is for component apps',
  },
  'component-message': {
    kinds: new Set(['component']),
    text: '/wx/{app}/component/message/{appid} is for component apps',
  },
  'suite-command': {
    kinds: new Set(['wecom-suite']),
    text: '/wx/{app}/suite/command is for wecom-suite apps',
  },
  'suite-data': {
    kinds: new Set(['wecom-suite']),
    text: '/wx/{app}/suite/data/{corpid} is for wecom-suite apps',
  },
};

export function requireCallbackKind(app: AppRecord, route: PushRoute = 'callback'): void {
  const { kinds, text } = ROUTE_KINDS[route];
  if (!kinds.has(app.kind)) {
    throw new AppError('BAD_REQUEST', `app "${app.name}" is a ${app.kind} app; ${text}`);
  }
}

function callbackToken(app: AppRecord, route: PushRoute = 'callback'): string {
  requireCallbackKind(app, route);
  // A token that does not open is a 503 (WeChat retries), not "no token configured".
  assertReadable(app, 'apps.callback_token');
  if (app.token === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no callback token configured`);
  }
  return app.token;
}

/** Checks `timestamp` against the clock and `presented` against `sha1(sort(token, ts, nonce, …))`. */
function checkSignature(
  deps: VerifyDeps,
  token: string,
  q: CallbackQuery,
  presented: string | undefined,
  extra: string[],
  what: string,
): void {
  if (q.timestamp === undefined || q.nonce === undefined || presented === undefined) {
    throw new AppError('UNAUTHORIZED', `missing ${what}, timestamp or nonce`);
  }
  if (!/^\d{1,12}$/.test(q.timestamp))
    throw new AppError('UNAUTHORIZED', 'timestamp is not a number');
  const skew = Math.abs(deps.clock.now() / 1000 - Number(q.timestamp));
  if (skew > deps.config.callbackMaxSkewSeconds) {
    throw new AppError(
      'UNAUTHORIZED',
      `timestamp is ${Math.round(skew)} s from now (at most ${deps.config.callbackMaxSkewSeconds} s accepted)`,
    );
  }
  if (!signatureOf(presented, token, q.timestamp, q.nonce, ...extra)) {
    throw new AppError('UNAUTHORIZED', `${what} does not match`);
  }
}

/**
 * WeCom sends every push encrypted, with `msg_signature` only and no `encrypt_type`
 * (https://developer.work.weixin.qq.com/document/path/91144): message modes do not apply.
 */
export const alwaysEncrypted = (app: AppRecord): boolean => app.kind === 'wecom';

/** The AES key of an app that decrypts pushes: 503 when it does not open, 409 when missing. */
function aesKeyOfApp(app: AppRecord): Buffer {
  assertReadable(app, 'apps.encoding_aes_key');
  if (app.encodingAesKey === undefined) {
    throw new AppError('CONFLICT', `app "${app.name}" has no encodingAesKey configured`);
  }
  return aesKeyOf(app.encodingAesKey);
}

/**
 * Server verification (GET): answers `echostr` verbatim when `signature` matches the app's
 * callback token; throws 401 otherwise. A WeCom app's `echostr` is encrypted: `msg_signature`
 * covers it too, and the answer is its decrypted plaintext, whose ReceiveId must be the corp id
 * (https://developer.work.weixin.qq.com/document/path/91144).
 */
export function verifyServer(deps: VerifyDeps, app: AppRecord, q: CallbackQuery): string {
  if (alwaysEncrypted(app)) return verifyWecomUrl(deps, app, q, 'callback', app.appId);
  const token = callbackToken(app);
  checkSignature(deps, token, q, q.signature, [], 'signature');
  if (q.echostr === undefined || q.echostr === '') {
    throw new AppError('BAD_REQUEST', 'echostr is missing');
  }
  return q.echostr;
}

export interface OpenedPush {
  outer: PushBody;
  /** The message as text (decrypted in safe mode) and its fields. */
  message: string;
  inner: PushBody;
  encrypted: boolean;
  keys?: { token: string; aesKey: Buffer; appId: string };
  /**
   * What identifies this delivery against replays: `sha1(sort(token, timestamp, nonce))`, the
   * plaintext `signature` WeChat sends with every push. One key for a push in every mode, so a
   * safe-mode push replayed as plaintext (or with another outer body) meets its own record.
   */
  replayKey?: string;
}

// The Encrypt value of a safe-mode body, found without parsing it (XML with or without CDATA,
// JSON with `\/` escapes allowed): the signature is checked over it before anything is parsed.
const XML_ENCRYPT =
  /<Encrypt>\s*(?:<!\[CDATA\[([A-Za-z0-9+/=]*)\]\]>|([A-Za-z0-9+/=]*))\s*<\/Encrypt>/;
const JSON_ENCRYPT = /"Encrypt"\s*:\s*"((?:[A-Za-z0-9+/=]|\\\/)*)"/;

/** The `Encrypt` value of a safe-mode body, taken out cheaply; `undefined` when absent. */
function encryptValueOf(body: string): string | undefined {
  const start = body.trimStart()[0];
  if (start === '<') {
    const m = XML_ENCRYPT.exec(body);
    return m === null ? undefined : (m[1] ?? m[2]);
  }
  if (start === '{') return JSON_ENCRYPT.exec(body)?.[1]?.replaceAll('\\/', '/');
  return undefined;
}

/** See {@link OpenedPush.replayKey}; called once the timestamp and nonce were verified. */
const replayKeyOf = (token: string, q: CallbackQuery) =>
  wechatSignature(token, q.timestamp ?? '', q.nonce ?? '');

/**
 * Verifies and opens a signed push: plaintext, compatible or safe mode, as the app's
 * `messageMode` allows. Nothing is parsed before a signature matched.
 */
export function openSignedPush(
  deps: VerifyDeps,
  app: AppRecord,
  q: CallbackQuery,
  body: string,
  route: PushRoute = 'callback',
  receiveIds: readonly string[] = [app.appId],
): OpenedPush {
  const token = callbackToken(app, route);
  // WeCom's pushes (a wecom app's callback, a suite's URLs) are always encrypted.
  const wecom = WECOM_ROUTES.has(route) || alwaysEncrypted(app);
  const plain = q.encrypt_type === undefined || q.encrypt_type === '' || q.encrypt_type === 'raw';
  if (plain && !wecom) {
    if (app.messageMode === 'safe') {
      // WeChat sends a safe-mode app's pushes encrypted: a plaintext one is a downgrade.
      throw new AppError(
        'UNAUTHORIZED',
        `app "${app.name}" is in safe message mode; a push without encrypt_type=aes is refused`,
      );
    }
    checkSignature(deps, token, q, q.signature, [], 'signature');
    const outer = parsePushBody(body);
    return {
      outer,
      message: body,
      inner: outer,
      encrypted: false,
      replayKey: replayKeyOf(token, q),
    };
  }
  if (!wecom && q.encrypt_type !== 'aes') {
    throw new AppError(
      'BAD_REQUEST',
      `encrypt_type "${(q.encrypt_type ?? '').slice(0, 16)}" is not aes`,
    );
  }
  const aesKey = aesKeyOfApp(app);
  const encrypt = encryptValueOf(body);
  if (encrypt === undefined || encrypt === '') {
    throw new AppError('BAD_REQUEST', 'safe-mode body has no Encrypt field');
  }
  checkSignature(deps, token, q, q.msg_signature, [encrypt], 'msg_signature');
  const outer = parsePushBody(body);
  if (outer.fields.Encrypt !== encrypt) {
    // Two Encrypt fields, or one the quick look read differently: never open the other one.
    throw new AppError('BAD_REQUEST', 'safe-mode body must have exactly one Encrypt field');
  }
  const { message, receiveId } = decryptFor(aesKey, encrypt, receiveIds);
  const inner = parsePushBody(message, 'decrypted message');
  return {
    outer,
    message,
    inner,
    encrypted: true,
    keys: { token, aesKey, appId: receiveId },
    replayKey: replayKeyOf(token, q),
  };
}

/**
 * Decrypts `encrypt` for the first of `receiveIds` its trailing id matches (WeChat: the appid;
 * WeCom: the ReceiveId of the route); 400 when none does or the ciphertext is bad.
 */
function decryptFor(
  aesKey: Buffer,
  encrypt: string,
  receiveIds: readonly string[],
  what = 'Encrypt',
): { message: string; receiveId: string } {
  let last: MessageCryptoError | undefined;
  for (const receiveId of receiveIds) {
    try {
      return { message: decryptMessage(aesKey, encrypt, receiveId), receiveId };
    } catch (err) {
      if (!(err instanceof MessageCryptoError)) throw err;
      last = err;
      if (err.reason !== 'WRONG_APPID') break;
    }
  }
  throw new AppError('BAD_REQUEST', `cannot decrypt ${what}: ${last?.message ?? 'no ReceiveId'}`);
}

/**
 * WeCom's URL verification (GET): `msg_signature` over the token, timestamp, nonce and the
 * encrypted `echostr`, which decrypts (ReceiveId `receiveId`) to the plaintext answered
 * (https://developer.work.weixin.qq.com/document/path/91144). 401 for a bad signature, 400 for
 * an echostr that does not decrypt for `receiveId`.
 */
export function verifyWecomUrl(
  deps: VerifyDeps,
  app: AppRecord,
  q: CallbackQuery,
  route: PushRoute,
  receiveId: string,
): string {
  const token = callbackToken(app, route);
  // A `+` sent unescaped arrives as a space; base64 has no spaces.
  const echostr = q.echostr?.replaceAll(' ', '+');
  checkSignature(deps, token, q, q.msg_signature, [echostr ?? ''], 'msg_signature');
  if (echostr === undefined || echostr === '') {
    throw new AppError('BAD_REQUEST', 'echostr is missing');
  }
  return decryptFor(aesKeyOfApp(app), echostr, [receiveId], 'echostr').message;
}

/** Opens a CloudRun push (no signature; only when `x-wx-source` is trusted). */
export function openCloudRunPush(body: string): OpenedPush {
  const outer = parsePushBody(body);
  return { outer, message: body, inner: outer, encrypted: false };
}

/**
 * What the store remembers of a signed push: a plaintext `signature` covers only the token,
 * timestamp and nonce, so the body it came with is what tells WeChat's retry (same body) from a
 * replay (another body). Kept until the timestamp falls out of the accepted skew.
 */
export function usedSignature(
  deps: VerifyDeps,
  q: CallbackQuery,
  opened: Pick<OpenedPush, 'replayKey' | 'encrypted'>,
  body: string,
): UsedSignature | undefined {
  if (opened.replayKey === undefined || q.timestamp === undefined) return undefined;
  return {
    signature: opened.replayKey,
    // The mode is part of what was received: the same bytes read as plaintext instead of
    // encrypted (encrypt_type dropped from the URL) are not WeChat's retry.
    bodyHash: createHash('sha256')
      .update(opened.encrypted ? 'aes\n' : 'raw\n', 'utf8')
      .update(body, 'utf8')
      .digest('hex'),
    expiresAt: (Number(q.timestamp) + deps.config.callbackMaxSkewSeconds) * 1000,
  };
}
