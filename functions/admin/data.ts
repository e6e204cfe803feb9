import { type Context, Hono } from 'hono';
import {
  createApp as createConsoleApp,
  createMerchant,
  patchApp,
  patchMerchant,
} from '../../shared/admin/accounts';
import { refreshCredential } from '../../shared/admin/credentials';
import { dashboard } from '../../shared/admin/dashboard';
import { nextCursor, page, rowId, text, time, whole } from '../../shared/admin/query';
import {
  appView,
  credentialView,
  deliveryView,
  merchantView,
  messageDetail,
  messageView,
  payDetail,
  payView,
} from '../../shared/admin/views';
import {
  authorizationUrl,
  authorizedUri,
  authUrlOptions,
  publicBase,
} from '../../shared/component/authorization';
import { syncAuthorizers } from '../../shared/component/authorizer-sync';
import { listAuthorizers, listQuery } from '../../shared/component/directory';
import { AppError } from '../../shared/http/errors';
import type { Deps } from '../../shared/platform/deps';
import type { AdminEnv, AdminGuard } from './types';

/** Most credential rows one list answers. */
const CREDENTIALS_MAX = 1_000;
/** Most deliveries one outbox list answers (newest first). */
const OUTBOX_DEFAULT = 100;
const OUTBOX_MAX = 500;

/** The JSON object body of a write; 400 for anything else. */
async function jsonBody(c: Context<AdminEnv>): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new AppError('BAD_REQUEST', 'the body must be a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('BAD_REQUEST', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** A string field of a body, or a 400 naming it. */
function field(body: Record<string, unknown>, name: string, max = 191): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '' || v.length > max) {
    throw new AppError('BAD_REQUEST', `${name} must be a string of 1 to ${max} characters`);
  }
  return v;
}

/** An optional string-or-number field of a body as a string (query-style readers take it). */
function optionalText(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new AppError('BAD_REQUEST', `${name} must be a string or a number`);
}

/**
 * The console's data routes (docs/api.md, "Admin API"), mounted behind the session layer, which
 * sets `admin` and checks CSRF: every write is audited through `guard` once it succeeded. No
 * answer carries a secret or a full credential value. Lists, searches and detail pages read
 * through `store.reader` (the read replica when configured: they may lag a write by the
 * replica's delay); writes, and the reads a write decides on, use the primary.
 */
export function createAdminDataRoutes(deps: Deps, guard: AdminGuard): Hono<AdminEnv> {
  const r = new Hono<AdminEnv>();

  r.get('/admin/api/dashboard', async (c) => c.json(await dashboard(deps)));

  // Apps and merchants.
  r.get('/admin/api/apps', async (c) => {
    const apps = await deps.store.reader.apps.list();
    return c.json({ apps: apps.map(appView) });
  });
  r.post('/admin/api/apps', async (c) => {
    const app = await createConsoleApp(deps, await jsonBody(c));
    await guard.audit(c, { action: 'apps.create', target: `app:${app.name}` });
    return c.json({ app }, 201);
  });
  r.patch('/admin/api/apps/:name', async (c) => {
    const { view, fields } = await patchApp(deps, c.req.param('name'), await jsonBody(c));
    await guard.audit(c, {
      action: 'apps.update',
      target: `app:${view.name}`,
      detail: { fields: fields.join(','), enabled: view.enabled },
    });
    return c.json({ app: view });
  });
  r.get('/admin/api/merchants', async (c) => {
    const merchants = await deps.store.reader.merchants.list();
    return c.json({ merchants: merchants.map(merchantView) });
  });
  r.post('/admin/api/merchants', async (c) => {
    const merchant = await createMerchant(deps, await jsonBody(c));
    await guard.audit(c, { action: 'merchants.create', target: `merchant:${merchant.name}` });
    return c.json({ merchant }, 201);
  });
  r.patch('/admin/api/merchants/:name', async (c) => {
    const { view, fields } = await patchMerchant(deps, c.req.param('name'), await jsonBody(c));
    await guard.audit(c, {
      action: 'merchants.update',
      target: `merchant:${view.name}`,
      detail: { fields: fields.join(','), enabled: view.enabled },
    });
    return c.json({ merchant: view });
  });

  // Credentials.
  r.get('/admin/api/credentials', async (c) => {
    const owner = text(c.req.query('owner'), 'owner', 191);
    const kind = text(c.req.query('kind'), 'kind', 48);
    const rows = await deps.store.reader.credentials.list({
      owner,
      kinds: kind === undefined ? undefined : [kind],
      limit: CREDENTIALS_MAX,
    });
    return c.json({ credentials: rows.map(credentialView) });
  });
  r.post('/admin/api/credentials/refresh', async (c) => {
    const body = await jsonBody(c);
    const key = { owner: field(body, 'owner'), kind: field(body, 'kind', 48) };
    const row = await refreshCredential(deps, key);
    await guard.audit(c, {
      action: 'credentials.refresh',
      target: `${key.owner}/${key.kind}`,
      detail: { version: row.version },
    });
    return c.json(credentialView(row));
  });

  // Messages and pay notifications.
  r.get('/admin/api/messages', async (c) => {
    const q = (n: string) => c.req.query(n);
    const p = page({ limit: q('limit'), before: q('before') });
    const rows = await deps.store.reader.messages.search({
      app: text(q('app'), 'app', 64),
      msgType: text(q('type'), 'type', 64),
      event: text(q('event'), 'event', 128),
      fromUser: text(q('openid'), 'openid', 128),
      from: time(q('from'), 'from'),
      to: time(q('to'), 'to'),
      ...p,
    });
    return c.json({ messages: rows.map(messageView), next: nextCursor(rows, p.limit) });
  });
  r.get('/admin/api/messages/:id', async (c) => {
    const id = rowId(c.req.param('id'), 'message');
    const m = await deps.store.reader.messages.byId(id);
    if (m === undefined) throw new AppError('NOT_FOUND', `no message ${id}`);
    const deliveries = await deps.store.reader.outbox.forSource('message', id);
    return c.json({ message: messageDetail(m), deliveries: deliveries.map(deliveryView) });
  });
  r.get('/admin/api/pay-notifications', async (c) => {
    const q = (n: string) => c.req.query(n);
    const p = page({ limit: q('limit'), before: q('before') });
    const rows = await deps.store.reader.payNotifications.search({
      merchant: text(q('merchant'), 'merchant', 64),
      eventType: text(q('type'), 'type', 64),
      from: time(q('from'), 'from'),
      to: time(q('to'), 'to'),
      ...p,
    });
    return c.json({ notifications: rows.map(payView), next: nextCursor(rows, p.limit) });
  });
  r.get('/admin/api/pay-notifications/:id', async (c) => {
    const id = rowId(c.req.param('id'), 'pay notification');
    const n = await deps.store.reader.payNotifications.byId(id);
    if (n === undefined) throw new AppError('NOT_FOUND', `no pay notification ${id}`);
    const deliveries = await deps.store.reader.outbox.forSource('pay', id);
    return c.json({ notification: payDetail(n), deliveries: deliveries.map(deliveryView) });
  });

  // Outbox.
  r.get('/admin/api/outbox', async (c) => {
    const status = c.req.query('status') || 'dead';
    if (status !== 'pending' && status !== 'dead' && status !== 'discarded') {
      throw new AppError('BAD_REQUEST', 'status must be pending, dead or discarded');
    }
    const owner = text(c.req.query('owner'), 'owner', 64);
    const newest = whole(c.req.query('limit'), 'limit', 1, OUTBOX_MAX, OUTBOX_DEFAULT);
    const rows = await deps.store.reader.outbox.list({
      status,
      ...(owner === undefined ? {} : { owner }),
      ...(newest === undefined ? {} : { newest }),
    });
    return c.json({ deliveries: rows.map(deliveryView) });
  });
  const outboxWrite = (action: 'requeue' | 'discard') =>
    r.post(`/admin/api/outbox/:id/${action}`, async (c) => {
      const id = rowId(c.req.param('id'), 'delivery');
      const before = await deps.store.outbox.get(id);
      if (before === undefined) throw new AppError('NOT_FOUND', `no delivery ${id}`);
      const now = deps.clock.now();
      const done =
        action === 'requeue'
          ? await deps.store.outbox.requeue(id, now)
          : await deps.store.outbox.discard(id, now);
      if (!done) {
        const status = (await deps.store.outbox.get(id))?.status ?? before.status;
        throw new AppError(
          'CONFLICT',
          `delivery ${id} is ${status}; only pending and dead ones can be changed`,
        );
      }
      const after = await deps.store.outbox.get(id);
      if (after === undefined) throw new AppError('NOT_FOUND', `no delivery ${id}`);
      await guard.audit(c, {
        action: `outbox.${action}`,
        target: `delivery:${id}`,
        detail: { owner: after.owner, was: before.status },
      });
      return c.json({ delivery: deliveryView(after) });
    });
  outboxWrite('requeue');
  outboxWrite('discard');

  // Third-party platforms' authorizers.
  r.get('/admin/api/authorizers', async (c) => {
    const name = text(c.req.query('app'), 'app', 64);
    if (name === undefined) throw new AppError('BAD_REQUEST', 'app (a component app) is required');
    const q = listQuery({
      status: c.req.query('status'),
      offset: c.req.query('offset'),
      limit: c.req.query('limit'),
    });
    const app = await deps.apps.require(name);
    return c.json({
      app: app.name,
      ...(await listAuthorizers(deps, app, q, deps.store.reader.authorizers)),
    });
  });
  r.post('/admin/api/components/:app/auth-link', async (c) => {
    const body = await jsonBody(c);
    const opts = authUrlOptions({
      type: optionalText(body, 'type'),
      authType: optionalText(body, 'authType'),
      bizAppId: optionalText(body, 'bizAppId'),
    });
    const app = await deps.apps.require(c.req.param('app'));
    const base = publicBase(deps.config.publicUrl, c.req.url, c.req.header('x-forwarded-proto'));
    const link = await authorizationUrl(deps, app, opts, authorizedUri(base, app));
    await guard.audit(c, {
      action: 'components.auth-link',
      target: `app:${app.name}`,
      detail: { type: opts.type },
    });
    return c.json({ url: link.url, expiresAt: new Date(link.expiresAt).toISOString() });
  });
  r.post('/admin/api/components/:app/sync', async (c) => {
    const app = await deps.apps.require(c.req.param('app'));
    const summary = await syncAuthorizers(deps, app);
    await guard.audit(c, {
      action: 'components.sync',
      target: `app:${app.name}`,
      detail: { added: summary.added, updated: summary.updated, total: summary.total },
    });
    return c.json(summary);
  });

  return r;
}
