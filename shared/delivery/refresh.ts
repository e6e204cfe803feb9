import type { AppRecord } from '../store';
import type { Fetcher } from '../tokens/manager';
import { fengniaoTokenFetcher } from './fengniao';
import type { PlatformHttp } from './http';
import type { MerchantDeps } from './merchants';
import { type DeliveryPlatform, MERCHANT_TOKEN_KIND } from './owners';
import { shansongTokenFetcher } from './shansong';

/**
 * The refresh pass's part for the delivery platforms (loaded only when one of their rows is due;
 * the SCF build ships it as `delivery-refresh.js`): how a merchant's access token is refreshed,
 * or undefined for a row that is not refreshed (a refresh token, a revoked or unknown merchant).
 */
export async function merchantRefreshPlan(
  deps: MerchantDeps & { fengniao?: PlatformHttp; shansong?: PlatformHttp },
  app: AppRecord,
  owner: { platform: DeliveryPlatform; merchant: string },
  kind: string,
): Promise<Fetcher | undefined> {
  if (kind !== MERCHANT_TOKEN_KIND || app.kind !== owner.platform) return undefined;
  const row = await deps.store.platformMerchants.get(app.name, owner.merchant);
  if (row?.status !== 'authorized') return undefined;
  if (owner.platform === 'fengniao') {
    return deps.fengniao === undefined
      ? undefined
      : fengniaoTokenFetcher({ ...deps, fengniao: deps.fengniao }, app, owner.merchant);
  }
  return deps.shansong === undefined
    ? undefined
    : shansongTokenFetcher({ ...deps, shansong: deps.shansong }, app, owner.merchant);
}
