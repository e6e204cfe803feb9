import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config';
import { sessionSettings } from './settings';

const problems = (env: Record<string, string>): string[] => {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('session settings', () => {
  it('default to the public URL as issuer, two hours, 30 days', () => {
    expect(sessionSettings(parseConfig({}))).toEqual({
      issuer: 'wxhub',
      ttlSeconds: 7200,
      rotationMs: 30 * 86_400_000,
    });
    const hub = parseConfig({ WXHUB_PUBLIC_URL: 'https://hub.example.com/' });
    expect(sessionSettings(hub).issuer).toBe('https://hub.example.com');
  });

  it('take the configured issuer, lifetime and rotation', () => {
    const config = parseConfig({
      WXHUB_PUBLIC_URL: 'https://hub.example.com',
      WXHUB_JWT_ISSUER: 'urn:example:wxhub',
      WXHUB_JWT_TTL_SECONDS: '900',
      WXHUB_JWT_KEY_ROTATION_DAYS: '7',
    });
    expect(sessionSettings(config)).toEqual({
      issuer: 'urn:example:wxhub',
      ttlSeconds: 900,
      rotationMs: 7 * 86_400_000,
    });
  });

  it('refuse a bad lifetime or rotation at start, naming the keys and never the values', () => {
    const found = problems({ WXHUB_JWT_TTL_SECONDS: '31', WXHUB_JWT_KEY_ROTATION_DAYS: '0x9' });
    expect(found).toEqual([
      'WXHUB_JWT_TTL_SECONDS: must be between 60 and 604800',
      'WXHUB_JWT_KEY_ROTATION_DAYS: must be a whole number',
    ]);
  });
});
