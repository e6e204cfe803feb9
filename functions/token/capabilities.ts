import type { Hono } from 'hono';
import type { HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { requireMiniProgram } from '../../shared/sessions/mini-program';
import {
  generateScheme,
  generateUrlLink,
  genWxaShortLink,
  getUserPhoneNumber,
  sendSubscribeMessage,
} from '../../shared/wechat/miniprogram';
import { getWxacode } from '../../shared/wechat/wxacode';
import * as api from './capabilities-api';

/**
 * The mini program capability routes (docs/api.md): phone number, subscribe messages, URL
 * scheme / link / short link and codes, each a call with the app's access token.
 */
export function mountCapabilities(r: Hono<HubEnv>, deps: Deps): void {
  const miniProgram = async (name: string, what: string) => {
    const app = await deps.apps.require(name);
    requireMiniProgram(app, what);
    return app;
  };

  mount(r, api.phoneNumber, async (c, { params, body }) => {
    const app = await miniProgram(params.app, 'phone-number');
    const phone = await getUserPhoneNumber(deps, app, body);
    // `phone` is a field the logger masks (138****5678), wherever it is logged.
    deps.log.info(
      { requestId: c.get('requestId'), app: app.name, phone: phone.phoneNumber },
      'phone number read',
    );
    return c.json(phone);
  });

  mount(r, api.subscribeMessage, async (c, { params, body }) => {
    const app = await miniProgram(params.app, 'subscribe-messages');
    return c.json(await sendSubscribeMessage(deps, app, body));
  });

  mount(r, api.urlScheme, async (c, { params, body }) => {
    const app = await miniProgram(params.app, 'url-scheme');
    return c.json(await generateScheme(deps, app, body));
  });

  mount(r, api.urlLink, async (c, { params, body }) => {
    const app = await miniProgram(params.app, 'url-link');
    return c.json(await generateUrlLink(deps, app, body));
  });

  mount(r, api.shortLink, async (c, { params, body }) => {
    const app = await miniProgram(params.app, 'short-link');
    return c.json(await genWxaShortLink(deps, app, body));
  });

  mount(r, api.wxacode, async (c, { params, body }) => {
    const app = await miniProgram(params.app, 'wxacode');
    const { type, ...fields } = body;
    const code = await getWxacode(deps, app, type, fields);
    const headers: Record<string, string> = {
      'content-type': code.contentType,
      'x-wxhub-wxacode': code.source,
      'x-content-type-options': 'nosniff',
    };
    if (code.quotaUsed !== undefined) headers['x-wxhub-quota-used'] = String(code.quotaUsed);
    return c.body(code.bytes, 200, headers);
  });
}
