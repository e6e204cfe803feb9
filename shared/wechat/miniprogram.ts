import { AppError, WechatApiError } from '../http/errors';
import type { AppRecord } from '../store';
import { type AppCallDeps, postWithAppToken, wechatJson } from './app-call';
import { numberText } from './exact-json';
import { WechatTransportError } from './http';

/**
 * Mini program server APIs called with the app's access token (README, "Mini program
 * capabilities"): phone number, subscribe messages, URL scheme / URL link / short link. Each
 * keeps WeChat's API name; its path is a constant here.
 */

export const PHONE_NUMBER_PATH = '/wxa/business/getuserphonenumber';
export const SUBSCRIBE_SEND_PATH = '/cgi-bin/message/subscribe/send';
export const GENERATE_SCHEME_PATH = '/wxa/generatescheme';
export const GENERATE_URLLINK_PATH = '/wxa/generate_urllink';
export const GEN_SHORTLINK_PATH = '/wxa/genwxashortlink';

/** 43101: the user refused the template, or has no one-time subscription left to spend. */
export const SUBSCRIPTION_REFUSED_ERRCODE = 43101;

function field(api: string, body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') {
    throw new WechatTransportError(api, `answered without ${name}`);
  }
  return value;
}

export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/**
 * `getuserphonenumber`: a `getPhoneNumber` button's code (single use, 5 minutes) for the user's
 * number; with `openid`, WeChat checks the code was issued to that user
 * (https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber).
 * `countryCode` comes back as a string or a number; it is answered as a string.
 */
export async function getUserPhoneNumber(
  deps: AppCallDeps,
  app: AppRecord,
  input: { code: string; openid?: string | undefined },
): Promise<PhoneNumber> {
  const json = {
    code: input.code,
    ...(input.openid === undefined ? {} : { openid: input.openid }),
  };
  const res = await postWithAppToken(deps, app, PHONE_NUMBER_PATH, json);
  const body = await wechatJson<{ phone_info?: unknown }>(res, PHONE_NUMBER_PATH);
  const info = body.phone_info;
  if (typeof info !== 'object' || info === null) {
    throw new WechatTransportError(PHONE_NUMBER_PATH, 'answered without phone_info');
  }
  const phone = info as Record<string, unknown>;
  const country = phone.countryCode;
  return {
    phoneNumber: field(PHONE_NUMBER_PATH, phone, 'phoneNumber'),
    purePhoneNumber: field(PHONE_NUMBER_PATH, phone, 'purePhoneNumber'),
    countryCode:
      typeof country === 'number'
        ? String(country)
        : field(PHONE_NUMBER_PATH, phone, 'countryCode'),
  };
}

/**
 * `subscribeMessage.send`: the body as WeChat takes it; answers WeChat's `msgid` (a number, kept
 * as its digits: it can exceed 2^53). 43101 (user refused, or no subscription left) is a 409
 * `SUBSCRIPTION_REFUSED` carrying the errcode: the caller must ask the user to subscribe again,
 * not retry (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html).
 */
export async function sendSubscribeMessage(
  deps: AppCallDeps,
  app: AppRecord,
  message: Record<string, unknown>,
): Promise<{ msgid: string }> {
  const res = await postWithAppToken(deps, app, SUBSCRIBE_SEND_PATH, message);
  let body: { msgid?: unknown };
  try {
    body = await wechatJson(res, SUBSCRIBE_SEND_PATH);
  } catch (err) {
    if (err instanceof WechatApiError && err.errcode === SUBSCRIPTION_REFUSED_ERRCODE) {
      throw new AppError(
        'SUBSCRIPTION_REFUSED',
        `the user has not subscribed to this template, or has used the subscription (WeChat errcode 43101: ${err.errmsg})`,
        { errcode: err.errcode },
      );
    }
    throw err;
  }
  // The digits as WeChat sent them (parsed exactly: JSON.parse would round one over 2^53).
  const msgid = numberText(body.msgid) ?? (typeof body.msgid === 'string' ? body.msgid : undefined);
  if (msgid === undefined || msgid === '')
    throw new WechatTransportError(SUBSCRIBE_SEND_PATH, 'answered no msgid');
  return { msgid };
}

/** `urlscheme.generate`: a `weixin://dl/business/?t=…` link that opens the mini program. */
export async function generateScheme(
  deps: AppCallDeps,
  app: AppRecord,
  body: Record<string, unknown>,
): Promise<{ openlink: string }> {
  const res = await postWithAppToken(deps, app, GENERATE_SCHEME_PATH, body);
  const r = await wechatJson<Record<string, unknown>>(res, GENERATE_SCHEME_PATH);
  return { openlink: field(GENERATE_SCHEME_PATH, r, 'openlink') };
}

/** `urllink.generate`: an `https://wxaurl.cn/…` link that opens the mini program. */
export async function generateUrlLink(
  deps: AppCallDeps,
  app: AppRecord,
  body: Record<string, unknown>,
): Promise<{ urlLink: string }> {
  const res = await postWithAppToken(deps, app, GENERATE_URLLINK_PATH, body);
  const r = await wechatJson<Record<string, unknown>>(res, GENERATE_URLLINK_PATH);
  return { urlLink: field(GENERATE_URLLINK_PATH, r, 'url_link') };
}

/** `shortlink.generate`: a `#小程序://…` short link to a page. */
export async function genWxaShortLink(
  deps: AppCallDeps,
  app: AppRecord,
  body: Record<string, unknown>,
): Promise<{ link: string }> {
  const res = await postWithAppToken(deps, app, GEN_SHORTLINK_PATH, body);
  const r = await wechatJson<Record<string, unknown>>(res, GEN_SHORTLINK_PATH);
  return { link: field(GEN_SHORTLINK_PATH, r, 'link') };
}
