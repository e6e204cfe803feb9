import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { countedCallback } from '../../shared/callbacks/counted';
import { publicBase } from '../../shared/component/authorization';
import { receivePlatformPush } from '../../shared/delivery/callbacks';
import {
  FENGNIAO_AUTH_ACK,
  FENGNIAO_CALLBACK_ACK,
  fengniaoAuthCallback,
  fengniaoAuthorizeUrl,
  fengniaoInvoke,
  fengniaoToken,
  verifyFengniaoCallback,
} from '../../shared/delivery/fengniao';
import type { PlatformAnswer } from '../../shared/delivery/http';
import {
  AUTHORIZE_COOKIE,
  AUTHORIZE_COOKIE_TTL_MS,
  checkAuthorizeReturn,
  openAuthorizeLink,
  SHANSONG_CALLBACK_ACK,
  shansongAuthorized,
  shansongAuthorizeLink,
  shansongAuthorizeUrl,
  shansongCallbackKey,
  shansongInvoke,
  shansongRedirectUri,
  shansongToken,
  verifyShansongCallbackKey,
} from '../../shared/delivery/shansong';
import type { HubEnv } from '../../shared/http/app';
import { requestText } from '../../shared/http/body';
import { AppError } from '../../shared/http/errors';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { parseExactJson } from '../../shared/wechat/exact-json';
import * as api from './api';

/**
 * The delivery platforms' routes (Fengniao, Shansong), loaded on the first request that reaches
 * them (shared/http/lazy-routes.ts): the token function mounts the internal `/v1/fengniao/…` and
 * `/v1/shansong/…` routes, the wx-callback function the platforms' and browsers' `/fengniao/…` and
 * `/shansong/…`. The SCF build ships this module as `delivery.js` (LAZY_FILES).
 */

/** The platform's answer as it is: status, content type, body. */
const passOn = (a: PlatformAnswer) =>
  new Response(a.text, {
    status: a.status,
    headers: a.contentType === '' ? {} : { 'content-type': a.contentType },
  });

const iso = (ms: number) => new Date(ms).toISOString();

/** `/v1/fengniao/…` and `/v1/shansong/…` (internal: an API key is required by the base app). */
export function createDeliveryApiRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  mount(r, api.fengniaoToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const t = await fengniaoToken(deps, app, params.merchantId);
    return c.json({
      merchantId: params.merchantId,
      accessToken: t.value,
      expiresAt: iso(t.expiresAt),
    });
  });
  mount(r, api.fengniaoProxy, async (c, { params }) => {
    if (c.req.method !== 'POST') throw new AppError('BAD_REQUEST', 'Fengniao APIs take POST');
    const app = await deps.apps.require(params.app);
    const body = await requestText(c);
    return passOn(await fengniaoInvoke(deps, app, params.merchantId, params.api, body));
  });
  mount(r, api.shansongToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const t = await shansongToken(deps, app, params.merchant);
    return c.json({ merchant: params.merchant, accessToken: t.value, expiresAt: iso(t.expiresAt) });
  });
  mount(r, api.shansongProxy, async (c, { params }) => {
    if (c.req.method !== 'POST') throw new AppError('BAD_REQUEST', 'Shansong APIs take POST');
    const app = await deps.apps.require(params.app);
    const shopId = c.req.query('shopId');
    if (params.family === 'file') {
      let form: FormData;
      try {
        form = await c.req.raw.formData();
      } catch {
        throw new AppError('BAD_REQUEST', 'file calls take a multipart/form-data body');
      }
      const a = await shansongInvoke(deps, app, params.merchant, {
        family: params.family,
        path: params.path,
        form,
      });
      return passOn(a);
    }
    const json = await requestText(c);
    const a = await shansongInvoke(deps, app, params.merchant, {
      family: params.family,
      path: params.path,
      json,
      shopId,
    });
    return passOn(a);
  });
  mount(r, api.shansongAuthorizeUrl, async (c, { params, query }) => {
    const app = await deps.apps.require(params.app);
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    const link = shansongAuthorizeLink(deps, app, query.merchant, base);
    return c.json({ url: link.url, expiresAt: new Date(link.expiresAt).toISOString() });
  });
  mount(r, api.shansongCallbackUrl, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    return c.json({ url: `${base}/shansong/${app.name}/callback/${shansongCallbackKey(app)}` });
  });
  return r;
}

/** A JSON object body (or form fields), for the platforms' POSTs. */
async function objectBody(
  text: string,
  type: string | undefined,
): Promise<Record<string, unknown>> {
  if (type?.includes('application/x-www-form-urlencoded') === true) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  let parsed: unknown;
  try {
    parsed = parseExactJson(text);
  } catch {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppError('BAD_REQUEST', 'body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

const done = (what: string) =>
  `<!doctype html><meta charset="utf-8"><title>wxhub</title><p>${what}</p>\n`;

/** `/fengniao/…` and `/shansong/…`: the platforms' callbacks and the browsers' authorization. */
export function createDeliveryPublicRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();

  r.get('/fengniao/:app/authorize', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    return c.redirect(fengniaoAuthorizeUrl(app), 302);
  });
  r.post('/fengniao/:app/auth-callback', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    const body = await objectBody(await requestText(c), c.req.header('content-type'));
    await fengniaoAuthCallback(deps, app, body);
    return c.text(FENGNIAO_AUTH_ACK);
  });
  r.post('/fengniao/:app/callback', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    return countedCallback(deps, 'fengniao', async (count) => {
      const raw = await requestText(c);
      const cb = verifyFengniaoCallback(app, raw);
      const type = cb.fields.callback_business_type;
      const param = cb.fields.param;
      const merchant =
        typeof param === 'object' && param !== null
          ? (param as Record<string, unknown>).merchant_id
          : undefined;
      const { inserted } = await receivePlatformPush(
        deps,
        app,
        {
          platform: 'fengniao',
          raw,
          fields: cb.fields,
          // The same business_data is the same callback, whatever its timestamp and signature.
          identity: cb.businessData,
          msgType: 'fengniao',
          event: typeof type === 'string' ? type.slice(0, 64) : undefined,
          fromUser:
            typeof merchant === 'string' || typeof merchant === 'number'
              ? String(merchant)
              : undefined,
        },
        FENGNIAO_CALLBACK_ACK,
      );
      count(inserted ? 'stored' : 'deduplicated');
      return c.body(FENGNIAO_CALLBACK_ACK, 200, { 'content-type': 'application/json' });
    });
  });

  r.get('/shansong/:app/authorize', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    // Only a link the hub signed (GET /v1/shansong/{app}/authorize-url); this browser is then
    // bound to it by a short cookie its return must carry.
    const link = openAuthorizeLink(deps, app, {
      merchant: c.req.query('merchant'),
      expires: c.req.query('expires'),
      sig: c.req.query('sig'),
    });
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    setCookie(c, AUTHORIZE_COOKIE, link.cookie, {
      path: `/shansong/${app.name}/`,
      httpOnly: true,
      // Sent on the top-level navigation back from Shansong's page.
      sameSite: 'Lax',
      secure: base.startsWith('https:'),
      maxAge: AUTHORIZE_COOKIE_TTL_MS / 1000,
    });
    return c.redirect(
      shansongAuthorizeUrl(deps, app, link.merchant, shansongRedirectUri(base, app)),
      302,
    );
  });
  r.get('/shansong/:app/authorized', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    const state = c.req.query('state');
    checkAuthorizeReturn(deps, app, getCookie(c, AUTHORIZE_COOKIE), state);
    const r = await shansongAuthorized(deps, app, c.req.query('code'), state);
    return c.html(
      done(`Shansong merchant ${r.merchant} authorized ${app.name}. You may close this page.`),
    );
  });
  r.post('/shansong/:app/callback/:key', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    return countedCallback(deps, 'shansong', async (count) => {
      verifyShansongCallbackKey(app, c.req.param('key'));
      const raw = await requestText(c);
      const fields = await objectBody(raw, c.req.header('content-type'));
      const order = fields.issOrderNo;
      const status = fields.status;
      const { inserted } = await receivePlatformPush(
        deps,
        app,
        {
          platform: 'shansong',
          raw,
          fields,
          identity: raw,
          msgType: 'shansong',
          event:
            typeof status === 'string' || typeof status === 'number' ? String(status) : undefined,
          fromUser: typeof order === 'string' ? order.slice(0, 64) : undefined,
        },
        SHANSONG_CALLBACK_ACK,
      );
      count(inserted ? 'stored' : 'deduplicated');
      return c.body(SHANSONG_CALLBACK_ACK, 200, { 'content-type': 'application/json' });
    });
  });
  r.post('/shansong/:app/callback', () => {
    throw new AppError(
      'UNAUTHORIZED',
      'unknown callback URL: use GET /v1/shansong/{app}/callback-url',
    );
  });
  return r;
}
