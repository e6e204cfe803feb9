import type { Config } from '../config';

/** How the hub signs login sessions, from the configuration with its defaults applied. */
export interface SessionSettings {
  /** `iss` of every token: `WXHUB_JWT_ISSUER`, else `WXHUB_PUBLIC_URL`, else `wxhub`. */
  issuer: string;
  /** Lifetime of a token (`WXHUB_JWT_TTL_SECONDS`, 7200 by default). */
  ttlSeconds: number;
  /** How long one key signs before the next one takes over (`WXHUB_JWT_KEY_ROTATION_DAYS`, 30). */
  rotationMs: number;
}

export const DEFAULT_JWT_TTL_SECONDS = 7_200;
export const DEFAULT_JWT_KEY_ROTATION_DAYS = 30;
export const DEFAULT_JWT_ISSUER = 'wxhub';

export function sessionSettings(
  config: Pick<Config, 'jwtIssuer' | 'jwtTtlSeconds' | 'jwtKeyRotationDays' | 'publicUrl'>,
): SessionSettings {
  return {
    issuer: config.jwtIssuer ?? config.publicUrl ?? DEFAULT_JWT_ISSUER,
    ttlSeconds: config.jwtTtlSeconds ?? DEFAULT_JWT_TTL_SECONDS,
    rotationMs: (config.jwtKeyRotationDays ?? DEFAULT_JWT_KEY_ROTATION_DAYS) * 86_400_000,
  };
}
