import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const DIST = resolve(import.meta.dirname, '../dist');

describe('npm run build -w @wxhub/client', () => {
  it('emits ESM that plain node loads and declarations a NodeNext project type-checks against', {
    timeout: 120_000,
  }, async () => {
    await run('npm', ['run', 'build', '-w', '@wxhub/client'], { cwd: ROOT });

    const loaded = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(join(DIST, 'index.js'))});
         const c = m.createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k'.repeat(16) });
         console.log(JSON.stringify([Object.keys(m).sort(), typeof c.api.GET, typeof c.withToken]));`,
      ],
      { cwd: ROOT },
    );
    expect(JSON.parse(loaded.stdout)).toEqual([
      [
        'DEAD_TOKEN_ERRCODES',
        'SESSION_ALG',
        'SESSION_TYP',
        'WxhubError',
        'createClient',
        'hasDeadTokenErrcode',
        'verifySession',
      ],
      'function',
      'function',
    ]);

    // A consumer's code against dist/*.d.ts: the typed routes come through (schema.d.ts copied).
    const dir = mkdtempSync(join(tmpdir(), 'wxhub-client-consumer-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(dir, 'use.ts'),
      `import { createClient, type AccessToken } from ${JSON.stringify(join(DIST, 'index.js'))};
const hub = createClient({ baseUrl: 'http://hub', apiKey: 'key' });
export const t: Promise<AccessToken> = hub.token('shop');
export const c = hub.api.GET('/v1/apps/{app}/jssdk-config', {
  params: { path: { app: 'shop' }, query: { url: 'https://x' } },
});
// @ts-expect-error: not a route of the document
export const bad = hub.api.GET('/v1/no-such-route');
`,
    );
    // The README's example, as a module of its own.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /### TypeScript client[^\n]*\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from '@wxhub/client'");
    writeFileSync(
      join(dir, 'readme.ts'),
      `${example?.replace("'@wxhub/client'", JSON.stringify(join(DIST, 'index.js')))}export {};\n`,
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext'];
    const types = ['--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node'];
    const checked = await run(
      process.execPath,
      [tsc, ...args, ...types, '--target', 'ES2022', 'use.ts', 'readme.ts'],
      {
        cwd: dir,
      },
    ).catch((e: { stdout: string }) => e);
    expect(checked.stdout).toBe('');
  });
});
