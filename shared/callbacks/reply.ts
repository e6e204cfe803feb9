import { randomInt } from 'node:crypto';
import { stringifyExactJson } from '../wechat/exact-json';
import { encryptMessage, wechatSignature } from '../wechat/message-crypto';
import { buildXml } from '../wechat/xml';
import type { PushSummary } from './message';

/**
 * A forward target's passive reply: its JSON answer `{"reply": {"MsgType": "text", "Content":
 * "hi"}}`. `MsgType` is required; `ToUserName`, `FromUserName` and `CreateTime` are filled in
 * from the push when absent. Anything else is no reply.
 */
export function replyOf(answer: unknown): Record<string, unknown> | undefined {
  if (answer === null || typeof answer !== 'object') return undefined;
  const reply = (answer as { reply?: unknown }).reply;
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) return undefined;
  const msgType = (reply as { MsgType?: unknown }).MsgType;
  return typeof msgType === 'string' && msgType !== ''
    ? (reply as Record<string, unknown>)
    : undefined;
}

/**
 * Renders a passive reply in the push's own format
 * (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html).
 */
export function renderReply(
  format: 'xml' | 'json',
  push: PushSummary,
  reply: Record<string, unknown>,
  nowSeconds: number,
): string {
  const full = {
    ToUserName: push.fromUser,
    FromUserName: push.toUser,
    CreateTime: nowSeconds,
    ...reply,
  };
  return format === 'xml' ? buildXml(full) : stringifyExactJson(full);
}

export interface ReplyKeys {
  token: string;
  aesKey: Buffer;
  appId: string;
}

/**
 * Wraps a rendered reply for safe mode: fresh random and nonce, own timestamp,
 * `MsgSignature = sha1(sort(token, TimeStamp, Nonce, Encrypt))`; TimeStamp a number, Nonce a
 * string, as in WeChat's example.
 */
export function encryptReply(
  format: 'xml' | 'json',
  rendered: string,
  keys: ReplyKeys,
  nowSeconds: number,
  nonce = String(randomInt(100_000_000, 2_000_000_000)),
): string {
  const encrypt = encryptMessage(keys.aesKey, rendered, keys.appId);
  const envelope = {
    Encrypt: encrypt,
    MsgSignature: wechatSignature(keys.token, String(nowSeconds), nonce, encrypt),
    TimeStamp: nowSeconds,
    Nonce: nonce,
  };
  return format === 'xml' ? buildXml(envelope) : JSON.stringify(envelope);
}

/** The content type of a stored answer: `success` is text, a reply is XML or JSON. */
export function answerType(body: string): string {
  if (body.startsWith('<')) return 'application/xml';
  if (body.startsWith('{')) return 'application/json';
  return 'text/plain; charset=utf-8';
}
