import type { Hono } from 'hono';
import type { HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { decryptForUser, login, type SessionParts } from '../../shared/sessions/login';
import { sessionSettings } from '../../shared/sessions/settings';
import { createSigningKeys } from '../../shared/sessions/signing-keys';
import * as api from './session-api';

/** Verifiers may keep the key set this long; a new key is published a day ahead of use. */
const JWKS_CACHE = 'public, max-age=300';

/**
 * Mini Program login sessions: `POST /v1/apps/{app}/login`, `POST /v1/apps/{app}/decrypt` and
 * the public `GET /.well-known/jwks.json` that verifies the hub's session JWTs.
 */
export function mountSessions(r: Hono<HubEnv>, deps: Deps): void {
  // Built on first use: building the routes touches no dependency (SCF cold start, tests).
  let built: SessionParts | undefined;
  const sessionParts = (): SessionParts => {
    if (built === undefined) {
      const settings = sessionSettings(deps.config);
      built = { settings, keys: createSigningKeys(deps.store, deps.clock, settings) };
    }
    return built;
  };

  mount(r, api.appLogin, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    return c.json(await login(deps, sessionParts(), app, body.code));
  });

  mount(r, api.appDecrypt, async (c, { params, body }) => {
    const app = await deps.apps.require(params.app);
    return c.json(await decryptForUser(deps, app, body));
  });

  r.get('/.well-known/jwks.json', async (c) => {
    const body = JSON.stringify(await sessionParts().keys.jwks());
    return c.body(body, 200, {
      'content-type': 'application/jwk-set+json',
      'cache-control': JWKS_CACHE,
    });
  });
}
