import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute } from '../../shared/http/routes';
import {
  AppParams,
  AuthorizerParams,
  InvalidateAnswer,
  InvalidateBody,
  isoTime,
  JssdkAnswer,
  LoginBody,
  PageUrlQuery,
  SECRET_ERRORS,
  SessionAnswer,
  TicketAnswer,
  TokenAnswer,
  text,
  WECHAT_ERRORS,
} from '../../shared/http/schemas';
import { TICKET_TYPES } from '../../shared/tokens/app-tokens';

/** Declarations of the token function's routes (docs/api.md, "Internal routes"). */

const TYPE_MESSAGE = `type must be one of ${TICKET_TYPES.join(', ')}`;
const ticketType = v.pipe(v.picklist(TICKET_TYPES, TYPE_MESSAGE), v.description('ticket type'));

const APP_ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'CONFLICT',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];
const COMPONENT_ERRORS: readonly ErrorCode[] = [...APP_ERRORS, 'NO_TICKET'];
const AUTHORIZER_ERRORS: readonly ErrorCode[] = [...COMPONENT_ERRORS, 'REVOKED'];

export const appToken = declareRoute({
  method: 'GET',
  path: '/v1/apps/{app}/token',
  tag: 'tokens',
  summary: "An app's access token",
  description:
    'Refreshes under the lease when none is valid. For a `wecom` app, its WeCom `gettoken` ' +
    'token (`appId` is the corp id).',
  params: AppParams,
  responses: { 200: { description: 'the current token', schema: TokenAnswer } },
  errors: APP_ERRORS,
});

export const appInvalidate = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/token/invalidate',
  tag: 'tokens',
  summary: 'Report a token WeChat refused',
  description:
    'Refreshes only while `accessToken` is still the current one (compare-and-refresh); a ' +
    'refresh budget that holds it back is reported in `error` inside the 200.',
  params: AppParams,
  body: InvalidateBody,
  responses: { 200: { description: 'the token to use now', schema: InvalidateAnswer } },
  errors: APP_ERRORS,
});

export const appTicket = declareRoute({
  method: 'GET',
  path: '/v1/apps/{app}/ticket',
  tag: 'tokens',
  summary: "An app's jsapi or wx_card ticket",
  params: AppParams,
  query: v.object({ type: v.optional(ticketType, 'jsapi') }),
  responses: { 200: { description: 'the current ticket', schema: TicketAnswer } },
  errors: APP_ERRORS,
});

export const appJssdk = declareRoute({
  method: 'GET',
  path: '/v1/apps/{app}/jssdk-config',
  tag: 'tokens',
  summary: 'wx.config fields for a page',
  params: AppParams,
  query: PageUrlQuery,
  responses: { 200: { description: 'signed with the jsapi ticket', schema: JssdkAnswer } },
  errors: APP_ERRORS,
});

export const appCode2Session = declareRoute({
  method: 'POST',
  path: '/v1/apps/{app}/code2session',
  tag: 'tokens',
  summary: 'Exchange a wx.login code (mini programs)',
  params: AppParams,
  body: LoginBody,
  responses: { 200: { description: "the user's session", schema: SessionAnswer } },
  errors: APP_ERRORS,
});

export const componentToken = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/token',
  tag: 'components',
  summary: "A third-party platform's component_access_token",
  params: AppParams,
  responses: { 200: { description: 'the current token', schema: TokenAnswer } },
  errors: COMPONENT_ERRORS,
});

const given = (description: string) => v.optional(v.pipe(v.string(), v.description(description)));

export const componentAuthUrl = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/auth-url',
  tag: 'components',
  summary: "A link to WeChat's authorization page",
  description:
    'A fresh single-use pre-auth code; WeChat sends the browser back to ' +
    '`/wx/{app}/component/authorized`. `authType` and `bizAppId` cannot be used together.',
  params: AppParams,
  query: v.object({
    type: v.optional(
      v.pipe(v.picklist(['pc', 'h5', ''], 'type must be pc or h5'), v.description('default pc')),
    ),
    authType: given('auth_type: 1 Official Accounts, 2 Mini Programs, 3 both, 4-6 newer kinds'),
    bizAppId: given('biz_appid: the one account that may authorize'),
  }),
  responses: {
    200: {
      description: 'the link',
      schema: v.object({ url: v.string(), expiresAt: isoTime('when the pre-auth code expires') }),
    },
  },
  errors: COMPONENT_ERRORS,
});

const Authorizer = v.object({
  appId: v.string(),
  nickName: v.optional(v.string()),
  userName: v.optional(text('gh_… user name')),
  status: v.picklist(['authorized', 'revoked']),
  funcInfo: v.pipe(v.array(v.number()), v.description('permission-set ids')),
  authorizedAt: isoTime('first authorization'),
  updatedAt: isoTime('last change'),
  revokedAt: v.optional(isoTime('when it was revoked')),
});

const whole = (name: string, description: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{0,9}$/, `${name} must be a whole number`),
      v.description(description),
    ),
  );

export const authorizerList = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/authorizers',
  tag: 'authorizers',
  summary: 'The authorizer directory, in appid order',
  description: 'Never a token. An empty value counts as not given.',
  params: AppParams,
  query: v.object({
    status: v.optional(
      v.picklist(['authorized', 'revoked', ''], 'status must be authorized or revoked'),
    ),
    offset: whole('offset', 'default 0'),
    limit: whole('limit', 'default 100, at most 500'),
  }),
  responses: {
    200: {
      description: 'one page',
      schema: v.object({ authorizers: v.array(Authorizer), total: v.number() }),
    },
  },
  errors: ['NOT_FOUND', 'BAD_REQUEST', ...SECRET_ERRORS],
});

export const authorizerSync = declareRoute({
  method: 'POST',
  path: '/v1/components/{app}/authorizers/sync',
  tag: 'authorizers',
  summary: 'Sync the directory with api_get_authorizer_list',
  description: 'One sync per component at a time: a second one answers 409 `CONFLICT`.',
  params: AppParams,
  responses: {
    200: {
      description: 'what changed',
      schema: v.object({
        added: v.number(),
        updated: v.number(),
        total: v.pipe(v.number(), v.description("WeChat's total_count")),
        withoutRefreshToken: v.number(),
      }),
    },
  },
  errors: COMPONENT_ERRORS,
});

export const authorizerGet = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/authorizers/{appid}',
  tag: 'authorizers',
  summary: 'One directory entry',
  params: AuthorizerParams,
  responses: { 200: { description: 'the entry', schema: Authorizer } },
  errors: ['NOT_FOUND', 'BAD_REQUEST', ...SECRET_ERRORS],
});

export const authorizerToken = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/authorizers/{appid}/token',
  tag: 'authorizers',
  summary: "An authorizer's access token",
  params: AuthorizerParams,
  responses: { 200: { description: "the authorizer's token", schema: TokenAnswer } },
  errors: AUTHORIZER_ERRORS,
});

export const authorizerInvalidate = declareRoute({
  method: 'POST',
  path: '/v1/components/{app}/authorizers/{appid}/token/invalidate',
  tag: 'authorizers',
  summary: "Report an authorizer's token WeChat refused",
  params: AuthorizerParams,
  body: InvalidateBody,
  responses: { 200: { description: 'the token to use now', schema: InvalidateAnswer } },
  errors: AUTHORIZER_ERRORS,
});

export const authorizerTicket = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/authorizers/{appid}/ticket',
  tag: 'authorizers',
  summary: "An authorizer's jsapi or wx_card ticket",
  params: AuthorizerParams,
  query: v.object({ type: ticketType }, TYPE_MESSAGE),
  responses: { 200: { description: 'the current ticket', schema: TicketAnswer } },
  errors: AUTHORIZER_ERRORS,
});

export const authorizerJssdk = declareRoute({
  method: 'GET',
  path: '/v1/components/{app}/authorizers/{appid}/jssdk-config',
  tag: 'authorizers',
  summary: "wx.config fields signed with an authorizer's ticket",
  params: AuthorizerParams,
  query: PageUrlQuery,
  responses: { 200: { description: 'the fields', schema: JssdkAnswer } },
  errors: AUTHORIZER_ERRORS,
});

export const authorizerCode2Session = declareRoute({
  method: 'POST',
  path: '/v1/components/{app}/authorizers/{appid}/code2session',
  tag: 'authorizers',
  summary: "Exchange an authorizer mini program's wx.login code",
  params: AuthorizerParams,
  body: LoginBody,
  responses: { 200: { description: "the user's session", schema: SessionAnswer } },
  errors: AUTHORIZER_ERRORS,
});

/** Every declaration of the token function, in mount order. */
export const TOKEN_ROUTES = [
  authorizerList,
  authorizerSync,
  authorizerGet,
  appToken,
  componentToken,
  componentAuthUrl,
  authorizerToken,
  authorizerInvalidate,
  authorizerTicket,
  authorizerJssdk,
  authorizerCode2Session,
  appInvalidate,
  appJssdk,
  appCode2Session,
  appTicket,
];
