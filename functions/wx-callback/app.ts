import { type Context, Hono } from 'hono';
import { type CallbackQuery, receivePush, verifyServer } from '../../shared/callbacks/receive';
import { answerType } from '../../shared/callbacks/reply';
import {
  afterAuthorization,
  authorizationUrl,
  authorizedUri,
  authUrlOptions,
  completeAuthorization,
  publicBase,
} from '../../shared/component/authorization';
import { onAuthorized, onUnauthorized } from '../../shared/component/authorizers';
import { keepTicket, redactAuthEvent, TICKET_KIND } from '../../shared/component/component';
import { releaseTestAnswer, requireMessageUrl } from '../../shared/component/messages';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { requestText } from '../../shared/http/body';
import { AppError } from '../../shared/http/errors';
import { wxSourceHeader } from '../../shared/http/headers';
import { lazyRoutes } from '../../shared/http/lazy-routes';
import type { Deps } from '../../shared/platform/deps';
import { mountDeliveryPublic } from '../delivery/lazy';
import { mountOAuthPages } from './oauth';
import { browserFacing, escapeHtml, page, wechatFacing } from './pages';

/** The signature parameters, the URL's query read once (the first of a repeated name wins). */
const query = (c: Context<HubEnv>): CallbackQuery => {
  const q: Partial<Record<string, string>> = c.req.query();
  return {
    signature: q.signature,
    timestamp: q.timestamp,
    nonce: q.nonce,
    echostr: q.echostr,
    encrypt_type: q.encrypt_type,
    msg_signature: q.msg_signature,
  };
};

/**
 * Routes of the wx-callback function: `GET|POST /wx/{app}/callback`, a third-party platform's
 * authorization-event URL `POST /wx/{app}/component/event`, its message-and-event URL
 * `POST /wx/{app}/component/message/{appid}`, and its browser-facing authorization pages
 * `GET /wx/{app}/component/authorize` and `…/authorized`, and the OAuth2 web authorization pages
 * `GET /oauth/{app}/authorize` and `…/callback` (docs/api.md).
 */
export function createRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.get('/wx/:app/callback', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const echostr = verifyServer(deps, app, query(c));
      return { status: 200, body: echostr, contentType: answerType('') };
    }),
  );
  r.post('/wx/:app/callback', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      // A blank x-wx-source is no CloudRun push: undefined, so the signature is required.
      return receivePush(deps, app, query(c), await requestText(c), wxSourceHeader(c));
    }),
  );
  r.post('/wx/:app/component/event', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      // Always signed: WeChat's auth events have no CloudRun (x-wx-source) delivery.
      return receivePush(deps, app, query(c), await requestText(c), undefined, {
        route: 'component-event',
        redact: redactAuthEvent,
        // Stored and forwarded like every push; a ticket is also kept (newest CreateTime wins),
        // an authorization's code exchanged (once), a revocation clears the authorizer's tokens.
        afterStore: async (opened) => {
          const fields = opened.inner.fields;
          if (fields.InfoType === 'authorized' || fields.InfoType === 'updateauthorized') {
            return onAuthorized(deps, app, fields);
          }
          if (fields.InfoType === 'unauthorized') {
            try {
              return await onUnauthorized(deps, app, fields);
            } catch (err) {
              if (err instanceof AppError) throw err;
              throw new AppError(
                'UNAVAILABLE',
                'the revocation could not be stored; WeChat will retry',
              );
            }
          }
          if (fields.InfoType !== TICKET_KIND) return;
          try {
            await keepTicket(deps.store, app, opened.inner.fields, deps.clock.now());
          } catch (err) {
            if (err instanceof AppError) throw err;
            throw new AppError('UNAVAILABLE', 'the ticket could not be stored; WeChat will retry');
          }
        },
      });
    }),
  );
  // WeChat sends no GET server verification to a third-party platform's message URL: POST only.
  r.post('/wx/:app/component/message/:appid', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const authorizer = requireMessageUrl(app, c.req.param('appid'));
      // Any authorizer is taken, known to the hub or not (its authorization push may be lost).
      return receivePush(deps, app, query(c), await requestText(c), undefined, {
        route: 'component-message',
        authorizerAppId: authorizer,
        answer: (opened) => releaseTestAnswer(deps, app, authorizer, opened.inner.fields),
      });
    }),
  );
  // The page an admin opens to authorize the platform: WeChat accepts its authorization page
  // only when opened by a click from the platform's authorization-initiation domain (授权发起页域名),
  // so this is a page with a link on the hub's own domain, and the link carries a fresh
  // pre-auth code.
  r.get('/wx/:app/component/authorize', (c) =>
    browserFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const opts = authUrlOptions({ type: c.req.query('type') });
      const { url } = await authorizationUrl(
        deps,
        app,
        opts,
        authorizedUri(
          publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto')),
          app,
        ),
      );
      return page(
        c,
        200,
        '授权第三方平台 Authorize',
        `<p><a href="${escapeHtml(url)}" style="font-size:1.2em">` +
          `${opts.type === 'pc' ? '扫码授权' : '前往授权'} (authorize ${escapeHtml(app.name)})</a></p>` +
          '<p>链接 10 分钟内有效 The link works once, for 10 minutes.</p>',
      );
    }),
  );
  // WeChat's redirect_uri: exchanges the code (the push may have done it already), then sends the
  // browser on to the component's authRedirectUrl.
  r.get('/wx/:app/component/authorized', (c) =>
    browserFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const authorizer = await completeAuthorization(deps, app, c.req.query('auth_code'));
      const next = afterAuthorization(app, authorizer);
      if (next !== undefined) return c.redirect(next, 302);
      return page(
        c,
        200,
        '授权成功 Authorized',
        `<p>${escapeHtml(authorizer)} authorized ${escapeHtml(app.name)}.</p>`,
      );
    }),
  );
  mountOAuthPages(r, deps);
  mountDeliveryPublic(r, deps);
  // WeCom suites: their code is loaded on the first request of one (LAZY_FILES).
  r.route(
    '/',
    lazyRoutes('/wx/:app/suite/', async () =>
      (await import('../suite/routes')).createSuiteCallbackRoutes(deps),
    ),
  );
  return r;
}

/** The wx-callback function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
