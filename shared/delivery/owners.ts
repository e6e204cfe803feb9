/**
 * Credential owners of the delivery platforms' merchants (small on purpose: the refresh pass
 * imports it statically to recognise their rows, and loads the rest only when one is due).
 */

/** `fengniao:<app>:<merchant>` / `shansong:<app>:<merchant>`. */
export const DELIVERY_OWNER_PATTERN = /^(fengniao|shansong):([a-z0-9][a-z0-9_-]{0,63}):(.+)$/;

/** A merchant's access token (refreshed ahead of expiry under the lease). */
export const MERCHANT_TOKEN_KIND = 'merchant_access_token';
/** A merchant's refresh token (never due by itself: used to refresh the access token). */
export const MERCHANT_REFRESH_KIND = 'merchant_refresh_token';

export type DeliveryPlatform = 'fengniao' | 'shansong';

export const merchantOwner = (platform: DeliveryPlatform, app: string, merchant: string) =>
  `${platform}:${app}:${merchant}`;

/** The platform, app and merchant of a merchant credential's owner; undefined otherwise. */
export function parseMerchantOwner(
  owner: string,
): { platform: DeliveryPlatform; app: string; merchant: string } | undefined {
  const m = DELIVERY_OWNER_PATTERN.exec(owner);
  if (m === null || m[2] === undefined || m[3] === undefined) return undefined;
  return { platform: m[1] === 'fengniao' ? 'fengniao' : 'shansong', app: m[2], merchant: m[3] };
}
