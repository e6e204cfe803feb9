import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute, type ResponseDecl } from '../../shared/http/routes';
import {
  AppParams,
  appParam,
  isoTime,
  proxyPathParam,
  SECRET_ERRORS,
  text,
  WECHAT_ERRORS,
} from '../../shared/http/schemas';

/** Declarations of the WeCom suite routes (docs/api.md, "WeCom, Douyin, Fengniao, Shansong"). */

const SUITE_ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'CONFLICT',
  'NO_TICKET',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];
const CORP_ERRORS: readonly ErrorCode[] = [...SUITE_ERRORS, 'REVOKED'];
const CorpParams = v.object({ app: appParam, corpid: text("an authorized corp's corpid") });

export const suiteToken = declareRoute({
  method: 'GET',
  path: '/v1/suites/{app}/token',
  tag: 'wecom suites',
  summary: "A WeCom suite's suite_access_token",
  description: 'Fetched with the newest `suite_ticket` WeCom pushed (409 NO_TICKET until one has).',
  params: AppParams,
  responses: {
    200: {
      description: 'the current token',
      schema: v.object({
        suiteId: text('the suite id'),
        accessToken: text('the suite_access_token'),
        expiresAt: isoTime('when it expires (ISO-8601 UTC)'),
      }),
    },
  },
  errors: SUITE_ERRORS,
});

export const suiteInstallUrl = declareRoute({
  method: 'GET',
  path: '/v1/suites/{app}/install-url',
  tag: 'wecom suites',
  summary: "A link to WeCom's install page",
  description:
    'A fresh pre-auth code with its session set (`authType` 0 formal, 1 test); WeCom sends the ' +
    'browser back to `/wx/{app}/suite/installed`, which exchanges the code and then sends it to ' +
    '`redirect?state=…&corpid=…`.',
  params: AppParams,
  query: v.object({
    redirect: text('where the browser goes once installed (https; http for localhost)'),
    state: v.optional(text('passed back to redirect (≤ 128 of A-Z a-z 0-9 - _ . ~)')),
    authType: v.optional(text('0 formal (default) or 1 test')),
  }),
  responses: {
    200: {
      description: 'the install page URL',
      schema: v.object({
        url: text("WeCom's install page"),
        expiresAt: isoTime('when its pre-auth code expires'),
      }),
    },
  },
  errors: SUITE_ERRORS,
});

export const suiteCorps = declareRoute({
  method: 'GET',
  path: '/v1/suites/{app}/corps',
  tag: 'wecom suites',
  summary: 'The corps that installed the suite',
  description: 'Never a permanent code or token.',
  params: AppParams,
  responses: {
    200: {
      description: 'the corps, by corpid',
      schema: v.object({
        corps: v.array(
          v.object({
            corpId: v.string(),
            corpName: v.optional(v.string()),
            status: v.picklist(['authorized', 'revoked']),
            authorizedAt: isoTime('when it (last) installed the suite'),
          }),
        ),
      }),
    },
  },
  errors: SUITE_ERRORS,
});

export const corpToken = declareRoute({
  method: 'GET',
  path: '/v1/suites/{app}/corps/{corpid}/token',
  tag: 'wecom suites',
  summary: "An authorized corp's access token",
  description: '410 REVOKED after `cancel_auth`.',
  params: CorpParams,
  responses: {
    200: {
      description: "the corp's token",
      schema: v.object({
        corpId: v.string(),
        accessToken: text('the corp access_token'),
        expiresAt: isoTime('when it expires (ISO-8601 UTC)'),
      }),
    },
  },
  errors: CORP_ERRORS,
});

const ANSWER: ResponseDecl = {
  description:
    "WeCom's answer: its status, content type and bytes as streamed. After errcode 40014 or " +
    '42001 the token is invalidated and the call retried once.',
  contentType: '*/*',
};

export const corpProxy = declareRoute({
  method: 'ANY',
  methods: ['GET', 'POST'],
  path: '/v1/suites/{app}/corps/{corpid}/proxy/{path}',
  wildcard: 'path',
  tag: 'proxy',
  summary: "Call a WeCom API with a corp's token",
  description: "As `/v1/proxy/…`, to `WECOM_API_BASE`, adding the corp's `access_token`.",
  params: v.object({ app: appParam, corpid: CorpParams.entries.corpid, path: proxyPathParam }),
  rawBody: 'forwarded as it is, with its content type',
  responses: { 200: ANSWER },
  errors: [...CORP_ERRORS, 'FORBIDDEN'],
});

/** Every WeCom suite route, for the OpenAPI document. */
export const SUITE_ROUTES = [suiteToken, suiteInstallUrl, suiteCorps, corpToken, corpProxy];
