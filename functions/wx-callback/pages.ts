import type { Context } from 'hono';
import type { CallbackAnswer } from '../../shared/callbacks/receive';
import { answerType } from '../../shared/callbacks/reply';
import type { HubEnv } from '../../shared/http/app';
import { AppError, CODE_TO_STATUS, type ErrorCode, WechatApiError } from '../../shared/http/errors';
import { transportErrorCode, WechatTransportError } from '../../shared/wechat/http';

/** HTML pages of the browser-facing routes (authorization, OAuth): escaped text, no script. */

export const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A small HTML page for a browser (no script; the text is escaped). */
export function page(c: Context<HubEnv>, status: number, title: string, body: string): Response {
  const html =
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><body style="font-family:sans-serif;margin:2em">` +
    `<h1 style="font-size:1.3em">${escapeHtml(title)}</h1>${body}</body></html>\n`;
  return c.body(html, status as 200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page's own URL may carry WeChat's code (the OAuth callback): never sent on.
    'referrer-policy': 'no-referrer',
  });
}

/** Browser-facing routes answer an HTML page, an expected failure included. */
export async function browserFacing(
  c: Context<HubEnv>,
  handle: () => Promise<Response>,
): Promise<Response> {
  try {
    return await handle();
  } catch (err) {
    const failed = (code: ErrorCode, message: string) =>
      page(
        c,
        CODE_TO_STATUS[code],
        '授权未完成 Authorization failed',
        `<p>${escapeHtml(message)}</p>`,
      );
    if (err instanceof AppError) return failed(err.code, err.message);
    if (err instanceof WechatApiError) {
      return failed('UPSTREAM_WECHAT', `WeChat answered errcode ${err.errcode}; try again later`);
    }
    if (err instanceof WechatTransportError) {
      return failed(transportErrorCode(err), 'WeChat could not be reached; try again later');
    }
    throw err;
  }
}

/**
 * WeChat calls these routes, so they answer in WeChat's terms: the body is `success`, a reply or
 * `echostr`, and a refusal is the status with a one-line plain-text reason.
 */
export async function wechatFacing(
  c: Context<HubEnv>,
  handle: () => Promise<CallbackAnswer>,
): Promise<Response> {
  try {
    const a = await handle();
    return c.body(a.body, a.status as 200, { 'content-type': a.contentType });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return c.body(`${err.message}\n`, CODE_TO_STATUS[err.code] as 400, {
      'content-type': answerType(''),
    });
  }
}
