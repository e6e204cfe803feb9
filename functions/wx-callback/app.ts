import { type Context, Hono } from 'hono';
import {
  type CallbackAnswer,
  type CallbackQuery,
  receivePush,
  verifyServer,
} from '../../shared/callbacks/receive';
import { answerType } from '../../shared/callbacks/reply';
import { onAuthorized, onUnauthorized } from '../../shared/component/authorizers';
import { keepTicket, redactTicket, TICKET_KIND } from '../../shared/component/component';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { requestText } from '../../shared/http/body';
import { AppError, CODE_TO_STATUS } from '../../shared/http/errors';
import { wxSourceHeader } from '../../shared/http/headers';
import type { Deps } from '../../shared/platform/deps';

const query = (c: Context<HubEnv>): CallbackQuery => ({
  signature: c.req.query('signature'),
  timestamp: c.req.query('timestamp'),
  nonce: c.req.query('nonce'),
  echostr: c.req.query('echostr'),
  encrypt_type: c.req.query('encrypt_type'),
  msg_signature: c.req.query('msg_signature'),
});

/**
 * WeChat calls these routes, so they answer in WeChat's terms: the body is `success`, a reply or
 * `echostr`, and a refusal is the status with a one-line plain-text reason.
 */
async function wechatFacing(
  c: Context<HubEnv>,
  handle: () => Promise<CallbackAnswer>,
): Promise<Response> {
  try {
    const a = await handle();
    return c.body(a.body, a.status as 200, { 'content-type': a.contentType });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return c.body(`${err.message}\n`, CODE_TO_STATUS[err.code] as 400, {
      'content-type': answerType(''),
    });
  }
}

/**
 * Routes of the wx-callback function: `GET|POST /wx/{app}/callback` and a third-party platform's
 * authorization-event URL `POST /wx/{app}/component/event` (docs/api.md).
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
        redact: redactTicket,
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
  return r;
}

/** The wx-callback function as a standalone app. */
export function createApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  app.route('/', createRoutes(deps));
  return app;
}
