import { type Context, Hono } from 'hono';
import type { CallbackQuery } from '../../shared/callbacks/receive';
import { answerType } from '../../shared/callbacks/reply';
import { publicBase } from '../../shared/component/authorization';
import { answerJson, type HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { receiveCommand, receiveData, verifySuiteUrl } from '../../shared/wecom-suite/callbacks';
import {
  assertCorp,
  checkCorpId,
  corpAccessToken,
  invalidateCorpToken,
} from '../../shared/wecom-suite/corps';
import { completeInstall, installRequest, installUrl } from '../../shared/wecom-suite/install';
import { requireSuite, suiteAccessToken } from '../../shared/wecom-suite/suite';
import { proxyWith, type TokenSource, wecomUpstream } from '../proxy/app';
import { browserFacing, escapeHtml, page, wechatFacing } from '../wx-callback/pages';
import * as api from './api';

/**
 * WeCom third-party suites (`kind: wecom-suite`), loaded on the first request of that kind
 * (LAZY_FILES in scripts/build-lib.ts): the WeCom-facing command and data URLs and install
 * redirect (`/wx/{app}/suite/…`, the wx-callback function) and the internal `/v1/suites/…`
 * routes (the token function, which on SCF receives every `/v1/suites/…` path).
 */

const query = (c: Context<HubEnv>): CallbackQuery => ({
  timestamp: c.req.query('timestamp'),
  nonce: c.req.query('nonce'),
  echostr: c.req.query('echostr'),
  msg_signature: c.req.query('msg_signature'),
});

/** `GET|POST /wx/{app}/suite/command`, `…/data/{corpid}` and `GET …/installed`. */
export function createSuiteCallbackRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  r.get('/wx/:app/suite/command', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const plain = verifySuiteUrl(deps, app, query(c), 'suite-command');
      return { status: 200, body: plain, contentType: answerType('') };
    }),
  );
  r.post('/wx/:app/suite/command', async (c) => {
    let after: (() => Promise<void>) | undefined;
    const res = await wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const r = await receiveCommand(deps, app, query(c), await c.req.text());
      after = r.after;
      return r.answer;
    });
    // Stored and answered first (WeCom's 1-second rule); the auth code is exchanged after.
    if (after !== undefined) void after();
    return res;
  });
  r.get('/wx/:app/suite/data/:corpid', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      checkCorpId(c.req.param('corpid'));
      const plain = verifySuiteUrl(deps, app, query(c), 'suite-data');
      return { status: 200, body: plain, contentType: answerType('') };
    }),
  );
  r.post('/wx/:app/suite/data/:corpid', (c) =>
    wechatFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      return receiveData(deps, app, c.req.param('corpid'), query(c), await c.req.text());
    }),
  );
  // WeCom's redirect_uri after an install from the provider's site.
  r.get('/wx/:app/suite/installed', (c) =>
    browserFacing(c, async () => {
      const app = await deps.apps.require(c.req.param('app'));
      const done = await completeInstall(deps, app, {
        auth_code: c.req.query('auth_code'),
        state: c.req.query('state'),
      });
      if (done.next !== undefined) return c.redirect(done.next, 302);
      return page(
        c,
        200,
        '安装成功 Installed',
        `<p>${escapeHtml(done.corpId)} installed ${escapeHtml(app.name)}.</p>`,
      );
    }),
  );
  return r;
}

/** The internal routes: suite token, install link, corps, corp tokens, the corp proxy. */
export function createSuiteApiRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  mount(r, api.suiteToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const t = await suiteAccessToken(deps, app);
    return answerJson(
      c,
      JSON.stringify({
        suiteId: app.appId,
        accessToken: t.value,
        expiresAt: new Date(t.expiresAt).toISOString(),
      }),
    );
  });
  mount(r, api.suiteInstallUrl, async (c, { params, query: q }) => {
    const app = await deps.apps.require(params.app);
    requireSuite(app);
    const req = installRequest(q);
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    const u = await installUrl(deps, app, req, base);
    return answerJson(
      c,
      JSON.stringify({ url: u.url, expiresAt: new Date(u.expiresAt).toISOString() }),
    );
  });
  mount(r, api.suiteCorps, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    requireSuite(app);
    const corps: Record<string, unknown>[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await deps.store.authorizers.list(app.name, { offset, limit: 500 });
      for (const a of page.authorizers) {
        corps.push({
          corpId: a.appId,
          ...(a.nickName === undefined ? {} : { corpName: a.nickName }),
          status: a.status,
          authorizedAt: new Date(a.authorizedAt).toISOString(),
        });
      }
      if (page.authorizers.length < 500) break;
    }
    return answerJson(c, JSON.stringify({ corps }));
  });
  mount(r, api.corpToken, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const t = await corpAccessToken(deps, app, params.corpid);
    return answerJson(
      c,
      JSON.stringify({
        corpId: params.corpid,
        accessToken: t.value,
        expiresAt: new Date(t.expiresAt).toISOString(),
      }),
    );
  });
  mount(r, api.corpProxy, async (c, { params }) => {
    const app = await deps.apps.require(params.app);
    const corpId = params.corpid;
    await assertCorp(deps, app, corpId);
    const token = `GET /v1/suites/${app.name}/corps/${corpId}/token`;
    const source: TokenSource = {
      // WeCom's API, retried once on WeCom's dead-token errcodes (40014, 42001).
      upstream: await wecomUpstream(deps),
      label: { app: app.name, corp: corpId },
      token: () => corpAccessToken(deps, app, corpId),
      invalidate: (dead) => invalidateCorpToken(deps, app, corpId, dead),
      instead: { 'cgi-bin/gettoken': token, 'cgi-bin/service/get_corp_token': token },
    };
    return proxyWith(deps, c, app.name, source, params.path);
  });
  return r;
}
