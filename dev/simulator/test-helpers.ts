import { createSimulator, type Simulator } from './app';
import { createSimClock } from './clock';
import type { SimAppConfig } from './state';

/** Shape of every WeChat JSON body the tests look at. */
export interface WxBody {
  errcode?: number;
  errmsg?: string;
  access_token?: string;
  expires_in?: number;
  ticket?: string;
  openid?: string;
  session_key?: string;
  unionid?: string;
  ip_list?: string[];
}

/** 2025-01-15 12:00:00 in UTC+8. */
export const T0 = Date.UTC(2025, 0, 15, 4, 0, 0);
export const APP: SimAppConfig = { appId: 'wx1111111111111111', secret: 'secret-one' };
export const APP2: SimAppConfig = { appId: 'wx2222222222222222', secret: 'secret-two' };
export const SEC = 1000;
export const MIN = 60 * SEC;
/** errmsg suffix: ` rid: xxxxxxxx-xxxxxxxx-xxxxxxxx`. */
export const RID_SUFFIX = / rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;

/** A simulator at T0 with APP and APP2 registered. */
export function newSim(opts: { egressIp?: string; apps?: SimAppConfig[] } = {}): Simulator {
  const apps = opts.apps ?? [APP, APP2];
  return createSimulator({ clock: createSimClock(T0), apps, egressIp: opts.egressIp });
}

/** Request through the in-process app and decode JSON. */
export async function call(
  sim: Simulator,
  url: string,
  init?: RequestInit,
): Promise<{ res: Response; body: WxBody }> {
  const res = await sim.app.request(url, init);
  return { res, body: (await res.json()) as WxBody };
}

/** POST a JSON (or raw string) body. */
export function post(
  sim: Simulator,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return call(sim, url, { method: 'POST', body: payload, headers });
}

/** Classic /cgi-bin/token call. */
export function classic(
  sim: Simulator,
  app: SimAppConfig = APP,
  headers: Record<string, string> = {},
) {
  const q = `grant_type=client_credential&appid=${app.appId}&secret=${app.secret}`;
  return call(sim, `/cgi-bin/token?${q}`, { headers });
}

/** A fresh classic token (asserts success). */
export async function classicToken(sim: Simulator, app: SimAppConfig = APP): Promise<string> {
  const { body } = await classic(sim, app);
  if (typeof body.access_token !== 'string') throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** /cgi-bin/stable_token call. */
export function stable(sim: Simulator, app: SimAppConfig = APP, force?: boolean) {
  const body: Record<string, unknown> = {
    grant_type: 'client_credential',
    appid: app.appId,
    secret: app.secret,
  };
  if (force !== undefined) body.force_refresh = force;
  return post(sim, '/cgi-bin/stable_token', body);
}

/** errcode of a getcallbackip call with `token` (0 on success). */
export async function useToken(sim: Simulator, token: string): Promise<number> {
  const { body } = await call(sim, `/cgi-bin/getcallbackip?access_token=${token}`);
  return body.errcode ?? 0;
}
