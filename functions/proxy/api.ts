import * as v from 'valibot';
import type { ErrorCode } from '../../shared/http/errors';
import { declareRoute, type ResponseDecl } from '../../shared/http/routes';
import {
  appIdParam,
  appParam,
  proxyPathParam,
  SECRET_ERRORS,
  WECHAT_ERRORS,
} from '../../shared/http/schemas';

/** Declarations of the WeChat API proxies (docs/api.md, "Internal routes"). */

const RAW_BODY = "forwarded as it is, with its content type (JSON, a media upload's multipart)";
const ANSWER: ResponseDecl = {
  description:
    "WeChat's answer: its status, content type and bytes as streamed (JSON, images). After " +
    'errcode 40001, 40014 or 42001 the token is invalidated and the call retried once.',
  contentType: '*/*',
};
const ERRORS: readonly ErrorCode[] = [
  'NOT_FOUND',
  'BAD_REQUEST',
  'FORBIDDEN',
  ...SECRET_ERRORS,
  ...WECHAT_ERRORS,
];

export const appProxy = declareRoute({
  method: 'ANY',
  methods: ['GET', 'POST'],
  path: '/v1/proxy/{app}/{path}',
  wildcard: 'path',
  tag: 'proxy',
  summary: "Call a WeChat API with the app's access token",
  description:
    'Forwards to `WECHAT_API_BASE/{path}` with query, method, body and content type, adding ' +
    '`access_token`. 403 for paths that mint a credential the hub serves. A `wecom` app calls ' +
    '`WECOM_API_BASE` with its WeCom token, retried once after errcode 40014 or 42001 only.',
  params: v.object({ app: appParam, path: proxyPathParam }),
  rawBody: RAW_BODY,
  responses: { 200: ANSWER },
  errors: ERRORS,
});

export const componentProxy = declareRoute({
  method: 'ANY',
  methods: ['GET', 'POST'],
  path: '/v1/components/{app}/proxy/{path}',
  wildcard: 'path',
  tag: 'proxy',
  summary: 'Call a WeChat API with the component token',
  description: 'As `/v1/proxy/…`, adding `component_access_token` and `access_token`.',
  params: v.object({ app: appParam, path: proxyPathParam }),
  rawBody: RAW_BODY,
  responses: { 200: ANSWER },
  errors: [...ERRORS, 'NO_TICKET'],
});

export const authorizerProxy = declareRoute({
  method: 'ANY',
  methods: ['GET', 'POST'],
  path: '/v1/components/{app}/authorizers/{appid}/proxy/{path}',
  wildcard: 'path',
  tag: 'proxy',
  summary: "Call a WeChat API with an authorizer's token",
  description: "As `/v1/proxy/…`, adding the authorizer's `access_token`.",
  params: v.object({ app: appParam, appid: appIdParam, path: proxyPathParam }),
  rawBody: RAW_BODY,
  responses: { 200: ANSWER },
  errors: [...ERRORS, 'NO_TICKET', 'REVOKED', 'CONFLICT'],
});

export const PROXY_ROUTES = [appProxy];
/** Mounted by the token function (every `/v1/components/…` path reaches it on SCF). */
export const COMPONENT_PROXY_ROUTES = [componentProxy, authorizerProxy];
