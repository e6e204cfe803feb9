import type { Hono } from 'hono';
import { createBaseApp, type HubEnv } from '../shared/http/app';
import type { Deps } from '../shared/platform/deps';
import * as admin from './admin/app';
import { consoleParts } from './admin/console';
import * as pay from './pay/app';
import * as payNotify from './pay-notify/app';
import * as proxy from './proxy/app';
import * as refresh from './refresh/app';
import * as token from './token/app';
import * as wxCallback from './wx-callback/app';

/** Every function, in mount order. The one-port server and the SCF build read this list. */
export const FUNCTIONS = [
  { name: 'token', createRoutes: token.createRoutes },
  { name: 'proxy', createRoutes: proxy.createRoutes },
  { name: 'refresh', createRoutes: refresh.createRoutes },
  { name: 'wx-callback', createRoutes: wxCallback.createRoutes },
  { name: 'pay', createRoutes: pay.createRoutes },
  { name: 'pay-notify', createRoutes: payNotify.createRoutes },
  { name: 'admin', createRoutes: (deps: Deps) => admin.createRoutes(deps, consoleParts(deps)) },
] as const;

/** All functions on one app: what `npm start`, `npm run dev` and the CloudRun image serve. */
export function createHubApp(deps: Deps): Hono<HubEnv> {
  const app = createBaseApp(deps);
  for (const fn of FUNCTIONS) app.route('/', fn.createRoutes(deps));
  return app;
}

export { refreshNow } from './refresh/app';
