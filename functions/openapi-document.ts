import { renderDocs } from '../shared/http/docs-page';
import { buildOpenApi } from '../shared/http/openapi';
import type { RouteDecl } from '../shared/http/routes';
import { DELIVERY_ROUTES } from './delivery/api';
import { PAY_ROUTES } from './pay/api';
import { COMPONENT_PROXY_ROUTES, PROXY_ROUTES } from './proxy/api';
import { REFRESH_ROUTES } from './refresh/api';
import { SUITE_ROUTES } from './suite/api';
import { CAPABILITY_ROUTES } from './token/capabilities-api';
import { TOKEN_ROUTES } from './token/declarations';
import { OAUTH_ROUTES } from './token/oauth-api';
import { SESSION_ROUTES } from './token/session-api';
import { SIGNING_ROUTES } from './token/signing-api';

export { DOCS_CSS } from '../shared/http/docs-page';

/** The document as JSON text and its reference page (`GET /openapi.json`, `GET /docs`). */
export function openApiTexts(publicUrl: string | undefined): { json: string; html: string } {
  const doc = openApiDocument(publicUrl);
  return { json: JSON.stringify(doc), html: renderDocs(doc) };
}

/**
 * Every declared `/v1/…` route of the hub, whichever function mounts it. Loaded only when the
 * document is asked for (`GET /openapi.json`, `GET /docs`, `npm run openapi`); an SCF package ships this module
 * as a file of its own, `openapi.js` (scripts/build-lib.ts, LAZY_FILES).
 */
export const ALL_ROUTES: readonly RouteDecl[] = [
  ...TOKEN_ROUTES,
  ...CAPABILITY_ROUTES,
  ...SESSION_ROUTES,
  ...COMPONENT_PROXY_ROUTES,
  ...PROXY_ROUTES,
  ...REFRESH_ROUTES,
  ...PAY_ROUTES,
  ...OAUTH_ROUTES,
  ...DELIVERY_ROUTES,
  ...SIGNING_ROUTES,
  ...SUITE_ROUTES,
];

const TAGS = [
  { name: 'tokens', description: "An app's access token, tickets, JS-SDK and login" },
  { name: 'mini programs', description: 'Phone numbers, subscribe messages, links and codes' },
  { name: 'components', description: 'A third-party platform (component app)' },
  { name: 'authorizers', description: 'Accounts that authorized a third-party platform' },
  { name: 'proxy', description: 'WeChat API calls with the token added' },
  { name: 'pay', description: 'WeChat Pay v3: orders, refunds, a signing proxy' },
  { name: 'operations', description: 'The refresh pass and the delivery outbox' },
  { name: 'oauth', description: 'OAuth2 web authorization of official accounts: tickets' },
  { name: 'delivery', description: 'Fengniao and Shansong: merchant tokens, signing proxies' },
  { name: 'signing', description: 'SMS verification codes (Aliyun) and COS uploads (Tencent)' },
  {
    name: 'wecom suites',
    description: 'WeCom third-party suites and the corps that installed them',
  },
];

/** The OpenAPI document; `publicUrl` (WXHUB_PUBLIC_URL) is named as a server when set. */
export function openApiDocument(publicUrl: string | undefined): Record<string, unknown> {
  return buildOpenApi(ALL_ROUTES, {
    title: 'wxhub',
    version: '0.1.0',
    description:
      'WeChat token hub and callback gateway: the internal routes (`/v1/…`) your own services ' +
      'call. Every error answers the `Error` envelope with an `x-request-id` header.',
    servers: [
      ...(publicUrl === undefined ? [] : [{ url: publicUrl, description: 'WXHUB_PUBLIC_URL' }]),
      { url: '/', description: 'this hub' },
    ],
    tags: TAGS,
  });
}
