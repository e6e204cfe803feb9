import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute, type ResponseDecl } from '../../shared/http/routes';
import { appParam, isoTime, SECRET_ERRORS, text, WECHAT_ERRORS } from '../../shared/http/schemas';

/** Declarations of the delivery platforms' internal routes (docs/api.md, Fengniao and Shansong). */

const ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'CONFLICT',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];
const ANSWER: ResponseDecl = {
  description: "the platform's answer: its status, content type and body as they are",
  contentType: '*/*',
};

const merchantIdParam = text("the merchant's Fengniao merchant id");
const merchantNameParam = text("the merchant's name in wxhub (the authorization's state)");

export const fengniaoToken = declareRoute({
  method: 'GET',
  path: '/v1/fengniao/{app}/merchants/{merchantId}/token',
  tag: 'delivery',
  summary: "A Fengniao merchant's access token",
  description:
    'Refreshed with the refresh token under the lease ahead of expiry (never twice within ' +
    "Fengniao's 10-minute idempotent refresh window). 404 before the merchant authorized.",
  params: v.object({ app: appParam, merchantId: merchantIdParam }),
  responses: {
    200: {
      description: 'the current token',
      schema: v.object({
        merchantId: text('the merchant id'),
        accessToken: text('the access token'),
        expiresAt: isoTime('when it expires (ISO-8601 UTC)'),
      }),
    },
  },
  errors: ERRORS,
});

export const fengniaoProxy = declareRoute({
  method: 'ANY',
  methods: ['POST'],
  path: '/v1/fengniao/{app}/merchants/{merchantId}/proxy/{api}',
  tag: 'delivery',
  summary: 'Call a Fengniao business API for a merchant, signed',
  description:
    'Posts to `FENGNIAO_API_BASE/v3/invoke/{api}` with `app_id`, `merchant_id`, a millisecond ' +
    '`timestamp`, `version` 1.0, the merchant token, the request body as `business_data` (the exact ' +
    'string received) and the SHA-256 `signature`.',
  params: v.object({ app: appParam, merchantId: merchantIdParam, api: text('e.g. createOrder') }),
  rawBody: 'a JSON object: the business parameters, sent as business_data exactly as received',
  responses: { 200: ANSWER },
  errors: ERRORS,
});

export const shansongToken = declareRoute({
  method: 'GET',
  path: '/v1/shansong/{app}/merchants/{merchant}/token',
  tag: 'delivery',
  summary: "A Shansong merchant's access token",
  description:
    'Refreshed with the refresh token under the lease ahead of expiry. 404 before the merchant authorized.',
  params: v.object({ app: appParam, merchant: merchantNameParam }),
  responses: {
    200: {
      description: 'the current token',
      schema: v.object({
        merchant: text("the merchant's name in wxhub"),
        accessToken: text('the access token'),
        expiresAt: isoTime('when it expires (ISO-8601 UTC)'),
      }),
    },
  },
  errors: ERRORS,
});

export const shansongProxy = declareRoute({
  method: 'ANY',
  methods: ['POST'],
  path: '/v1/shansong/{app}/merchants/{merchant}/proxy/{family}/{path}',
  wildcard: 'path',
  tag: 'delivery',
  summary: 'Call a Shansong API for a merchant, signed',
  description:
    'Posts to `SHANSONG_API_BASE/openapi/{family}/v5/{path}` (`developer`, `merchants`, ' +
    '`merchantRegister`, `file`) form-encoded: `clientId`, a millisecond `timestamp`, ' +
    "`accessToken` (developer: the merchant's), `shopId` (merchants: the query parameter), " +
    '`data` (the JSON body, the exact string) and the uppercase MD5 `sign`. `file` passes the ' +
    'multipart body on with `clientId`, `timestamp` and a `sign` over those two.',
  params: v.object({
    app: appParam,
    merchant: merchantNameParam,
    family: text('developer, merchants, merchantRegister or file'),
    path: text('the API path under /openapi/{family}/v5/'),
  }),
  rawBody: 'JSON (sent as the form field data), or multipart for file',
  responses: { 200: ANSWER },
  errors: ERRORS,
});

export const shansongCallbackUrl = declareRoute({
  method: 'GET',
  path: '/v1/shansong/{app}/callback-url',
  tag: 'delivery',
  summary: "The app's order-callback URL for Shansong's console",
  description:
    'Shansong documents no callback signature: the URL carries a path secret derived from the ' +
    'appSecret (a new appSecret gives a new URL). Keep it private.',
  params: v.object({ app: appParam }),
  responses: {
    200: { description: 'the URL', schema: v.object({ url: text('the callback URL') }) },
  },
  errors: ['NOT_FOUND', 'BAD_REQUEST', 'CONFLICT', ...SECRET_ERRORS],
});

export const shansongAuthorizeUrl = declareRoute({
  method: 'GET',
  path: '/v1/shansong/{app}/authorize-url',
  tag: 'delivery',
  summary: 'A signed link a merchant opens to authorize the app',
  description:
    'The link (`/shansong/{app}/authorize?merchant&expires&sig`, valid 24 hours) is signed with ' +
    "the appSecret; the hub refuses (403) one it did not issue, and the browser's return from " +
    "Shansong's page must carry the short cookie the link set, so nobody can bind their own shop " +
    "to another merchant's name. Give it to that merchant only.",
  params: v.object({ app: appParam }),
  query: v.object({ merchant: merchantNameParam }),
  responses: {
    200: {
      description: 'the link',
      schema: v.object({
        url: text('the authorization link'),
        expiresAt: isoTime('until when it may be opened (ISO-8601 UTC)'),
      }),
    },
  },
  errors: ['NOT_FOUND', 'BAD_REQUEST', 'CONFLICT', ...SECRET_ERRORS],
});

export const DELIVERY_ROUTES = [
  fengniaoToken,
  fengniaoProxy,
  shansongToken,
  shansongProxy,
  shansongCallbackUrl,
  shansongAuthorizeUrl,
];
