import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute } from '../../shared/http/routes';
import { AppParams, SECRET_ERRORS, text, WECHAT_ERRORS } from '../../shared/http/schemas';

/**
 * Declarations of the mini program capability routes (docs/api.md, "Mini Program and Official
 * Account user-facing routes"): phone number, subscribe messages, links and codes. Bodies are
 * WeChat's own; the fields that matter are checked here. Unknown fields pass on to WeChat, which
 * judges them (it adds fields over time) — except for the two quota-limited codes, whose fields
 * key the stored image: there an unknown field is refused.
 */

const ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'CONFLICT',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];

const nonEmpty = (name: string, description: string, max = 1024) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.nonEmpty(`${name} is required`),
    v.maxLength(max, `${name} must be at most ${max} characters`),
    v.description(description),
  );
const optionalString = (name: string, description: string, max = 1024) =>
  v.optional(
    v.pipe(
      v.string(`${name} must be a string`),
      v.maxLength(max, `${name} must be at most ${max} characters`),
      v.description(description),
    ),
  );
const ENV_VERSIONS = ['release', 'trial', 'develop'] as const;
const envVersion = v.optional(
  v.pipe(
    v.picklist(ENV_VERSIONS, 'env_version must be release, trial or develop'),
    v.description('which version opens: release (default), trial or develop'),
  ),
);
const flag = (name: string, description: string) =>
  v.optional(v.pipe(v.boolean(`${name} must be true or false`), v.description(description)));
const whole = (name: string, min: number, max: number, description: string) =>
  v.optional(
    v.pipe(
      v.number(`${name} must be a number`),
      v.integer(`${name} must be a whole number`),
      v.minValue(min, `${name} must be at least ${min}`),
      v.maxValue(max, `${name} must be at most ${max}`),
      v.description(description),
    ),
  );
const channel = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255));

const PHONE_CODE_MESSAGE = 'body must be JSON {"code": "<getPhoneNumber code>"}';
export const PhoneNumberBody = v.object(
  {
    code: v.pipe(
      v.string(PHONE_CODE_MESSAGE),
      v.regex(/^[A-Za-z0-9_-]{1,256}$/, PHONE_CODE_MESSAGE),
      v.description("the code of the mini program's getPhoneNumber button (single use, 5 min)"),
    ),
    openid: v.optional(text('when given, WeChat checks the code was issued to this user')),
  },
  PHONE_CODE_MESSAGE,
);

export const phoneNumber = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/phone-number',
  tag: 'mini programs',
  summary: "A user's phone number from a getPhoneNumber code (getuserphonenumber)",
  description: 'Mini programs only. A used or expired code is WeChat errcode 40029 (502).',
  params: AppParams,
  body: PhoneNumberBody,
  responses: {
    200: {
      description: 'the number',
      schema: v.object({
        phoneNumber: text('with the country code for numbers outside mainland China'),
        purePhoneNumber: text('without the country code'),
        countryCode: text('e.g. "86"'),
      }),
    },
  },
  errors: ERRORS,
});

const dataValue = v.looseObject({ value: v.union([v.string(), v.number()], 'value is required') });
export const SubscribeBody = v.looseObject(
  {
    touser: nonEmpty('touser', "the recipient's openid", 128),
    template_id: nonEmpty('template_id', 'the subscribe message template', 128),
    page: optionalString('page', 'the page the card opens, query allowed'),
    data: v.pipe(
      v.record(v.string(), dataValue, 'data must be an object of {"value": …} by key'),
      v.description('the template fields: {"thing1": {"value": "…"}, …}'),
    ),
    miniprogram_state: v.optional(
      v.picklist(
        ['developer', 'trial', 'formal'],
        'miniprogram_state must be developer, trial or formal',
      ),
    ),
    lang: v.optional(
      v.picklist(['zh_CN', 'en_US', 'zh_HK', 'zh_TW'], 'lang must be zh_CN, en_US, zh_HK or zh_TW'),
    ),
  },
  'body must be a JSON object',
);

export const subscribeMessage = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/subscribe-messages',
  tag: 'mini programs',
  summary: 'Send a subscribe message (subscribeMessage.send)',
  description:
    "The body is WeChat's. A user who refused the template or has no one-time subscription left " +
    '(WeChat errcode 43101) is 409 `SUBSCRIPTION_REFUSED` with `errcode`: ask the user to ' +
    'subscribe again rather than retry. Other WeChat errors are 502 with `errcode`.',
  params: AppParams,
  body: SubscribeBody,
  responses: {
    200: {
      description: 'sent',
      schema: v.object({ msgid: text("WeChat's message id, as a string of digits (64-bit)") }),
    },
  },
  errors: [...ERRORS, 'SUBSCRIPTION_REFUSED'],
});

const expiry = {
  is_expire: flag('is_expire', 'WeChat now treats every link as expiring (30 days at most)'),
  expire_type: v.optional(
    v.pipe(
      v.picklist([0, 1], 'expire_type must be 0 (expire_time) or 1 (expire_interval)'),
      v.description('0: expire at expire_time, 1: after expire_interval days'),
    ),
  ),
  expire_time: whole(
    'expire_time',
    0,
    4_102_444_800,
    'seconds since the epoch, 30 days ahead at most',
  ),
  expire_interval: whole('expire_interval', 1, 30, 'days, 1 to 30'),
};

export const SchemeBody = v.looseObject(
  {
    jump_wxa: v.optional(
      v.looseObject(
        {
          path: optionalString('jump_wxa.path', 'a published page, no query'),
          query: optionalString('jump_wxa.query', 'the query, 1024 characters at most'),
          env_version: envVersion,
        },
        'jump_wxa must be an object',
      ),
    ),
    ...expiry,
  },
  'body must be a JSON object',
);

export const urlScheme = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/url-scheme',
  tag: 'mini programs',
  summary: 'A URL Scheme (weixin://dl/business/…) to the mini program (generatescheme)',
  params: AppParams,
  body: SchemeBody,
  responses: {
    200: { description: 'the scheme', schema: v.object({ openlink: text('weixin://dl/…') }) },
  },
  errors: ERRORS,
});

export const UrlLinkBody = v.looseObject(
  {
    path: optionalString('path', 'a published page, no query'),
    query: optionalString('query', 'the query, 1024 characters at most'),
    env_version: envVersion,
    ...expiry,
  },
  'body must be a JSON object',
);

export const urlLink = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/url-link',
  tag: 'mini programs',
  summary: 'A URL Link (https://wxaurl.cn/…) to the mini program (generate_urllink)',
  params: AppParams,
  body: UrlLinkBody,
  responses: {
    200: { description: 'the link', schema: v.object({ urlLink: text('https://wxaurl.cn/…') }) },
  },
  errors: ERRORS,
});

export const ShortLinkBody = v.looseObject(
  {
    page_url: nonEmpty('page_url', 'the page, query allowed, 1024 characters at most'),
    page_title: optionalString('page_title', 'shown with the link (cut after 20 characters)'),
    is_permanent: flag('is_permanent', 'permanent (100,000 at most per app) or 30 days (default)'),
  },
  'body must be JSON {"page_url": "…"}',
);

export const shortLink = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/short-link',
  tag: 'mini programs',
  summary: 'A Short Link (#小程序://…) to a page (genwxashortlink)',
  params: AppParams,
  body: ShortLinkBody,
  responses: {
    200: { description: 'the link', schema: v.object({ link: text('#小程序://…') }) },
  },
  errors: ERRORS,
});

/** WeChat's `scene` alphabet (getwxacodeunlimit). */
const SCENE = /^[0-9A-Za-z!#$&'*+,/:;=?@\-._~]{1,32}$/;
const look = {
  width: whole('width', 280, 1280, 'pixels, 280 to 1280 (430)'),
  auto_color: flag('auto_color', 'colour the lines automatically (false)'),
  line_color: v.optional(
    v.pipe(
      v.strictObject(
        { r: channel, g: channel, b: channel },
        'line_color must be {"r","g","b"}, each 0 to 255',
      ),
      v.description('line colour when auto_color is false'),
    ),
  ),
  is_hyaline: flag('is_hyaline', 'transparent background (false)'),
  env_version: envVersion,
};

export const WxacodeBody = v.variant(
  'type',
  [
    v.looseObject({
      type: v.literal('unlimited'),
      scene: v.pipe(
        v.string('scene is required'),
        v.regex(SCENE, "scene must be 1-32 characters of 0-9 A-Z a-z !#$&'*+,/:;=?@-._~"),
        v.description('what the page receives as its scene'),
      ),
      page: optionalString('page', 'a published page, no leading / and no query', 1024),
      check_path: flag('check_path', 'check that page exists (true)'),
      ...look,
    }),
    v.strictObject(
      {
        type: v.literal('limited'),
        path: nonEmpty('path', 'the page and its query', 1024),
        ...look,
      },
      'type limited takes path, width, auto_color, line_color, is_hyaline and env_version only',
    ),
    v.strictObject(
      {
        type: v.literal('qrcode'),
        path: nonEmpty('path', 'the page and its query', 128),
        width: look.width,
      },
      'type qrcode takes path and width only',
    ),
  ],
  'body type must be unlimited, limited or qrcode',
);

export const wxacode = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/wxacode',
  tag: 'mini programs',
  summary: 'A mini program code or QR code image (getwxacodeunlimit, getwxacode, createwxaqrcode)',
  description:
    "`type` picks the API; the other fields are WeChat's. `limited` and `qrcode` share WeChat's " +
    'lifetime quota of 100,000 codes per app: the hub stores each one it generates and answers ' +
    'the stored image for the same parameters (WeChat defaults filled in), so a retry never ' +
    'spends quota, and identical concurrent requests make one call. `unlimited` is generated ' +
    'on every request. A WeChat error (45029: quota spent) is 502 with `errcode`.',
  params: AppParams,
  body: WxacodeBody,
  responses: {
    200: {
      description: "the image bytes with WeChat's content type",
      contentType: 'image/*',
      headers: {
        'x-wxhub-wxacode': '`stored` (answered from the store) or `generated` (WeChat made it now)',
        'x-wxhub-quota-used':
          'limited and qrcode: codes of the two kinds this hub stored for the app (of 100,000)',
      },
    },
  },
  errors: ERRORS,
});

/** Every declaration of the capability routes, in mount order. */
export const CAPABILITY_ROUTES = [
  phoneNumber,
  subscribeMessage,
  urlScheme,
  urlLink,
  shortLink,
  wxacode,
];
