import { createCipheriv, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { badRequest, readBody } from './control-io';
import type { WxContext } from './wechat';

/** What a Mini Program's `wx.getUserInfo` (or the old `getPhoneNumber`) hands the page. */
export interface EncryptedOpenData {
  encryptedData: string;
  iv: string;
}

/**
 * Encrypts `data` with `watermark: {appid, timestamp}` added the way WeChat's client does:
 * AES-128-CBC with PKCS#7 padding, the session key as key, a random iv
 * (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html).
 */
export function encryptOpenData(
  sessionKey: string,
  appId: string,
  data: Record<string, unknown>,
  timestampSeconds: number,
): EncryptedOpenData {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const plain = JSON.stringify({
    ...data,
    watermark: { timestamp: timestampSeconds, appid: appId },
  });
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return { encryptedData: body.toString('base64'), iv: iv.toString('base64') };
}

const openDataSchema = z.strictObject({
  appId: z.string().min(1),
  openid: z.string().min(1),
  data: z.record(z.string(), z.unknown()).optional(),
});

/**
 * `POST /__sim/open-data` `{appId, openid, data?}` → `{encryptedData, iv}`: the open data the
 * user's Mini Program would receive now, encrypted under the session key of their latest login
 * (a new login makes earlier data undecryptable, as on WeChat). 400 before any login.
 */
export function createOpenDataRoutes(ctx: WxContext): Hono {
  const r = new Hono();
  r.post('/open-data', async (c) => {
    const body = await readBody(c, openDataSchema);
    if (!body.ok) return body.response;
    const { appId, openid, data } = body.value;
    const key = ctx.grants.sessionKey(appId, openid);
    if (key === undefined)
      return badRequest(c, `no session for ${openid} of ${appId}: log in first`);
    const user = data ?? { openId: openid, nickName: 'Sim User', gender: 0, language: 'zh_CN' };
    const now = Math.floor(ctx.clock.now() / 1000);
    return c.json(encryptOpenData(key, appId, user, now));
  });
  return r;
}
