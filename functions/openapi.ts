import type { Hono } from 'hono';
import type { HubEnv } from '../shared/http/app';

/**
 * `GET /openapi.json` (internal auth: shared/http/auth.ts) and `GET /docs`, the API reference
 * rendered from it (no script, its stylesheet served here). The document, its page and the
 * modules that build them are loaded on the first request, so a cold start pays nothing for
 * them; then kept for the life of the process.
 */
export function mountOpenApi(r: Hono<HubEnv>, publicUrl: () => string | undefined): void {
  let built: Promise<{ json: string; html: string }> | undefined;
  const load = () => {
    built ??= import('./openapi-document')
      .then((m) => m.openApiTexts(publicUrl()))
      .catch((err: unknown) => {
        built = undefined; // the next request tries again
        throw err;
      });
    return built;
  };
  r.get('/openapi.json', async (c) => {
    const { json } = await load();
    return c.body(json, 200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
  });
  r.get('/docs', async (c) => {
    const { html } = await load();
    return c.body(html, 200, DOCS_HEADERS);
  });
  r.get('/docs/style.css', async (c) => {
    const { DOCS_CSS } = await import('./openapi-document');
    return c.body(DOCS_CSS, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'max-age=3600',
      'x-content-type-options': 'nosniff',
    });
  });
}

/** No script at all; the stylesheet from this hub only; never framed. */
const DOCS_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};
