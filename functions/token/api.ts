import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute } from '../../shared/http/routes';
import {
  AppParams,
  InvalidateAnswer,
  InvalidateBody,
  JssdkAnswer,
  LoginBody,
  PageUrlQuery,
  SECRET_ERRORS,
  SessionAnswer,
  TicketAnswer,
  TokenAnswer,
  WECHAT_ERRORS,
} from '../../shared/http/schemas';
import { TICKET_TYPES } from '../../shared/tokens/app-tokens';

/**
 * Declarations of the token function's app routes (docs/api.md, "Internal routes"); the
 * third-party platform's are in ./component-api.ts, loaded with the routes they declare.
 */

export const TYPE_MESSAGE = `type must be one of ${TICKET_TYPES.join(', ')}`;
export const ticketType = v.pipe(
  v.picklist(TICKET_TYPES, TYPE_MESSAGE),
  v.description('ticket type'),
);

export const APP_ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'CONFLICT',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];

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
