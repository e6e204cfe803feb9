import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppsFileError, parseAppsFile } from './apps';
import { ConfigError, parseConfig } from './config';

// Recorded answers of the schema-library validation this code replaced (validation-cases.json):
// every accepted input must parse to the same configuration and every refused one must report
// the same problems, word for word. PEM keys are placeholders, filled with fresh keys here.

interface Cases {
  env: { env: Record<string, string>; config?: unknown; problems?: string[] }[];
  apps: { input: unknown; parsed?: unknown; problems?: string[] }[];
}

const cases = JSON.parse(
  readFileSync(new URL('./validation-cases.json', import.meta.url), 'utf8'),
) as Cases;

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pems: Record<string, string> = {
  '<private-key>': privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  '<public-key>': publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};
const fill = (x: unknown): unknown => {
  if (typeof x === 'string') return pems[x] ?? x;
  if (Array.isArray(x)) return x.map(fill);
  if (typeof x === 'object' && x !== null) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, fill(v)]));
  }
  return x;
};

describe('configuration validation, against the recorded answers', () => {
  it.each(cases.env.map((c) => [JSON.stringify(c.env), c] as const))('env %s', (_, c) => {
    if (c.problems !== undefined) {
      let problems: string[] = [];
      try {
        parseConfig(c.env);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems = err.problems;
      }
      // The order of the problems is not part of the answer; each of them is.
      expect([...problems].sort()).toEqual([...c.problems].sort());
    } else {
      const { secretKeys: _none, ...config } = parseConfig(c.env);
      expect(config).toEqual(c.config);
    }
  });

  it.each(cases.apps.map((c) => [JSON.stringify(c.input).slice(0, 100), c] as const))(
    'apps file %s',
    (_, c) => {
      const text = c.input === 'not json' ? '{' : JSON.stringify(fill(c.input));
      if (c.problems !== undefined) {
        let problems: string[] = [];
        try {
          parseAppsFile(text);
        } catch (err) {
          if (!(err instanceof AppsFileError)) throw err;
          problems = err.problems;
        }
        expect(problems).toEqual(c.problems);
      } else {
        expect(parseAppsFile(text)).toEqual(fill(c.parsed));
      }
    },
  );

  it('covers accepted and refused inputs of both kinds', () => {
    for (const list of [cases.env, cases.apps]) {
      expect(list.filter((c) => c.problems === undefined).length).toBeGreaterThan(5);
      expect(list.filter((c) => c.problems !== undefined).length).toBeGreaterThan(10);
    }
  });
});
