import type { AppRecord } from '../store';
import { type BatchDeps, TENANT_BATCH, type TenantBatchSpec } from '../tokens/batch-refresh';
import {
  AUTHORIZER_REFRESH_KIND,
  AUTHORIZER_TOKEN_KIND,
  type AuthorizerTokenAnswer,
  authorizerOwner,
  noRefreshToken,
  recoverAuthorizerToken,
  requestAuthorizerToken,
} from './authorizers';
import { type ComponentDeps, componentAccessToken } from './component';

/**
 * The refresh pass's path for authorizer tokens, built for components with many authorizers:
 * the batched renewal of shared/tokens/batch-refresh.ts with the component token shared by the
 * batch and each authorizer's sealed refresh token (rotated ones kept).
 */

/** How many authorizers one batch takes. */
export const AUTHORIZER_BATCH = TENANT_BATCH;

export interface AuthorizerPassDeps extends ComponentDeps, BatchDeps {}

/** How authorizer tokens are renewed in a batch of component `app`. */
export function authorizerBatchSpec(
  deps: AuthorizerPassDeps,
  app: AppRecord,
): TenantBatchSpec<string> {
  return {
    tokenKind: AUTHORIZER_TOKEN_KIND,
    secretKind: AUTHORIZER_REFRESH_KIND,
    ownerOf: (appId) => authorizerOwner(app, appId),
    shared: async () => (await componentAccessToken(deps, app)).value,
    missing: (appId) => noRefreshToken(app, appId),
    // 61023 and 61003 are recovered or confirmed as on the token route.
    fetch: (appId, refresh, componentToken): Promise<AuthorizerTokenAnswer> =>
      requestAuthorizerToken(deps, app, appId, refresh, componentToken).catch((err: unknown) =>
        recoverAuthorizerToken(deps, app, appId, refresh, componentToken, err),
      ),
    app: app.name,
    tenant: 'authorizer',
  };
}
