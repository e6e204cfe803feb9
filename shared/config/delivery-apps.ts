/**
 * Per-kind rules of the delivery platforms' apps (`fengniao`, `shansong`), kept apart from the
 * other kinds' so each platform's rules stay in one place.
 */

/** The fields of an app entry these rules read. */
interface Entry {
  kind: string;
  appSecret?: string | undefined;
  token?: string | undefined;
  encodingAesKey?: string | undefined;
}

/** The delivery platforms' app kinds. */
export const DELIVERY_KINDS = ['fengniao', 'shansong'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

export const isDeliveryKind = (kind: string): kind is DeliveryKind =>
  (DELIVERY_KINDS as readonly string[]).includes(kind);

/**
 * The first problem of a `fengniao` or `shansong` entry: both sign every call with `appSecret`,
 * and neither receives WeChat's pushes (`token`, `encodingAesKey` do not apply).
 */
export function deliveryAppProblem(app: Entry): { field: string; message: string } | undefined {
  if (!isDeliveryKind(app.kind)) return undefined;
  if (app.appSecret === undefined) {
    return { field: 'appSecret', message: `is required for ${app.kind} apps` };
  }
  for (const field of ['token', 'encodingAesKey'] as const) {
    if (app[field] !== undefined) {
      return { field, message: `applies to WeChat apps only, not ${app.kind}` };
    }
  }
  return undefined;
}
