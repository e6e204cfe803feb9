import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { buildUiModule, UI_MODULE } from '../../scripts/build-ui-lib';
import { createBaseApp, type HubEnv } from '../../shared/http/app';
import { createLogger } from '../../shared/http/log';
import { CONSOLE_CSP, createConsoleRoutes } from './console';
import { CONSOLE_ASSETS, CONSOLE_HTML } from './ui-assets.generated';

function consoleApp(): Hono<HubEnv> {
  const app = createBaseApp({
    store: { ping: async () => undefined },
    log: createLogger('silent'),
    config: {
      bodyLimitBytes: 1024,
      apiKeys: ['console-test-key-0123456789'],
      trustWxSource: false,
    },
  });
  app.route('/', createConsoleRoutes());
  return app;
}

const assetPaths = () =>
  [...CONSOLE_HTML.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');

describe('console serving', () => {
  const app = consoleApp();

  it('redirects /admin to /admin/', async () => {
    const res = await app.request('/admin');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/admin/');
  });

  it('serves the page with the strict CSP, nosniff, no referrer and no caching of the page', async () => {
    const res = await app.request('/admin/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(CONSOLE_CSP).toBe(res.headers.get('content-security-policy'));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-request-id')).not.toBeNull();
    expect(await res.text()).toBe(CONSOLE_HTML);
  });

  it('answers 304 to a page request with the current ETag', async () => {
    const first = await app.request('/admin/');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await app.request('/admin/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await app.request('/admin/', { headers: { 'if-none-match': '"old"' } });
    expect(stale.status).toBe(200);
  });

  it('has no inline script, inline style or external URL in the page', () => {
    expect(CONSOLE_HTML).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(CONSOLE_HTML).not.toMatch(/<style/);
    expect(CONSOLE_HTML).not.toMatch(/\sstyle=/);
    expect(CONSOLE_HTML).not.toMatch(/\son[a-z]+=/);
    expect(CONSOLE_HTML).not.toMatch(/(?:src|href)="(?!\/admin\/assets\/|data:)/);
    expect(assetPaths()).toHaveLength(2);
  });

  it('serves each asset the page names under a content-hashed name, cached for a year', async () => {
    for (const path of assetPaths()) {
      const res = await app.request(path);
      expect([path, res.status]).toEqual([path, 200]);
      expect(path).toMatch(/^\/admin\/assets\/console\.[0-9a-f]{12}\.(js|css)$/);
      expect(res.headers.get('content-type')).toBe(
        path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const name = path.slice('/admin/assets/'.length);
      expect(await res.text()).toBe(CONSOLE_ASSETS[name]?.body);
    }
  });

  it('answers 404 in the envelope for an unknown asset and never walks out of the asset list', async () => {
    for (const path of [
      '/admin/assets/console.000000000000.js',
      '/admin/assets/constructor',
      '/admin/assets/__proto__',
      '/admin/assets/..%2Fconsole.ts',
    ]) {
      const res = await app.request(path);
      expect([path, res.status]).toEqual([path, 404]);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('NOT_FOUND');
    }
  });

  it('is public: no API key is asked for the page or its assets', async () => {
    const res = await app.request('/admin/');
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBeNull();
  });
});

describe('console bundle', () => {
  // The committed module is what the hub serves (no esbuild at run time): it must be what the
  // sources build to now. Run `npm run build:ui` after changing functions/admin/ui.
  it('is the fresh build of functions/admin/ui (run `npm run build:ui` when this fails)', async () => {
    const fresh = await buildUiModule();
    expect(readFileSync(UI_MODULE, 'utf8') === fresh).toBe(true);
  });

  it('ships no source map (no paths of the build machine in what is served)', () => {
    const served = [CONSOLE_HTML, ...Object.values(CONSOLE_ASSETS).map((a) => a.body)].join('\n');
    expect(served).not.toMatch(/sourceMappingURL|\/work\//);
  });
});
