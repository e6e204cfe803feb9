import { createHash } from 'node:crypto';
import { AppError } from '../http/errors';
import { ExactJsonError, numberText, parseExactJson } from '../wechat/exact-json';
import { parseXml, XmlError, type XmlFields } from '../wechat/xml';

/** A push as WeChat sent it: XML (official accounts, mini programs) or JSON (mini programs). */
export interface PushBody {
  format: 'xml' | 'json';
  fields: Record<string, unknown>;
}

/**
 * Parses a push body by its first character (`<` XML, `{` JSON); the content type is not
 * trusted, WeChat's own pushes send `text/xml` for both on some paths.
 *
 * @throws AppError BAD_REQUEST naming what is wrong
 */
export function parsePushBody(text: string, what = 'body'): PushBody {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) {
    try {
      return { format: 'xml', fields: parseXml(trimmed) };
    } catch (err) {
      if (err instanceof XmlError)
        throw new AppError('BAD_REQUEST', `${what} is not valid XML: ${err.message}`);
      throw err;
    }
  }
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      // 64-bit ids (MsgId) arrive as bare numbers: read them exactly.
      parsed = parseExactJson(trimmed);
    } catch (err) {
      if (err instanceof ExactJsonError)
        throw new AppError('BAD_REQUEST', `${what} ${err.message}`);
      throw err;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new AppError('BAD_REQUEST', `${what} must be a JSON object`);
    }
    return { format: 'json', fields: parsed as Record<string, unknown> };
  }
  throw new AppError('BAD_REQUEST', `${what} must be XML or a JSON object`);
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? (v === '' ? undefined : v) : numberText(v);

/** The fields every push has, as stored in their own columns. */
export interface PushSummary {
  toUser: string | undefined;
  fromUser: string | undefined;
  createTime: number | undefined;
  msgType: string | undefined;
  event: string | undefined;
  msgId: string | undefined;
  /** Third-party platform auth events only (dedup, not stored in a column). */
  infoType?: string | undefined;
  authorizerAppId?: string | undefined;
}

export function summarize(fields: Record<string, unknown> | XmlFields): PushSummary {
  const createTime = text(fields.CreateTime);
  const n = createTime === undefined ? Number.NaN : Number(createTime);
  return {
    toUser: text(fields.ToUserName),
    fromUser: text(fields.FromUserName),
    createTime: Number.isSafeInteger(n) ? n : undefined,
    msgType: text(fields.MsgType),
    // A third-party platform's auth events name their kind in InfoType instead.
    event: text(fields.Event) ?? text(fields.InfoType),
    msgId: text(fields.MsgId) ?? text(fields.MsgID),
    ...(fields.InfoType === undefined
      ? {}
      : { infoType: text(fields.InfoType), authorizerAppId: text(fields.AuthorizerAppid) }),
  };
}

/**
 * What makes WeChat's retries of one push recognisable
 * (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html):
 * `MsgId` for messages, else `FromUserName` + `CreateTime` + event; a third-party platform's
 * auth event (no `FromUserName`) by `InfoType` + `CreateTime` + `AuthorizerAppid`
 * (a `component_verify_ticket` is `info:component_verify_ticket:<CreateTime>:`); else a digest of
 * the message itself.
 */
export function dedupKey(s: PushSummary, message: string): string {
  let key: string | undefined;
  if (s.msgId !== undefined) key = `msg:${s.msgId}`;
  else if (s.fromUser !== undefined && s.createTime !== undefined) {
    key = `evt:${s.fromUser}:${s.createTime}:${s.event ?? s.msgType ?? ''}`;
  } else if (s.infoType !== undefined && s.createTime !== undefined) {
    key = `info:${s.infoType}:${s.createTime}:${s.authorizerAppId ?? ''}`;
  }
  // The column holds 191 characters; anything longer is kept as its digest.
  if (key !== undefined && key.length <= 191) return key;
  return `sha256:${createHash('sha256')
    .update(key ?? message, 'utf8')
    .digest('hex')}`;
}

/**
 * The dedup key of a push to a third-party platform's message URL: the authorizer's appid scopes
 * it (one component receives the messages of many accounts, and an openid or MsgId is only
 * unique within one of them).
 */
export function authorizerDedupKey(authorizerAppId: string, key: string): string {
  const scoped = `az:${authorizerAppId}:${key}`;
  return scoped.length <= 191
    ? scoped
    : `sha256:${createHash('sha256').update(scoped, 'utf8').digest('hex')}`;
}
