import type { Clock } from '../clock';
import { authorizerBatchSpec } from '../component/authorizer-pass';
import {
  AUTHORIZATION_CODE_OWNER_PREFIX,
  AUTHORIZER_OWNER_PREFIX,
  AUTHORIZER_TOKEN_KIND,
  parseAuthorizerOwner,
} from '../component/authorizers';
import {
  COMPONENT_TOKEN_AHEAD_MS,
  COMPONENT_TOKEN_KIND,
  componentTokenFetcher,
  currentTicket,
  noTicket,
  restartTicketPushes,
  staleTicketMessage,
  staleTicketSince,
  TICKET_KIND,
} from '../component/component';
import { authorizerTicketFetcher } from '../component/credentials';
import type { PlatformHttp } from '../delivery/http';
import { parseMerchantOwner } from '../delivery/owners';
import type { Logger } from '../http/log';
import {
  CERTIFICATES_KIND,
  certificatesFetcher,
  merchantKeys,
  merchantOwner,
} from '../pay/merchant';
import type {
  AppRecord,
  CredentialKey,
  DueCredential,
  DueCursor,
  MerchantRecord,
  Store,
} from '../store';
import type { WechatHttp } from '../wechat/http';
import {
  accessTokenAheadMs,
  accessTokenFetcher,
  appOwner,
  loadWecom,
  SERVED_TOKEN_KINDS,
  TICKET_AHEAD_MS,
  TICKET_TYPES,
  TOKEN_KINDS,
  ticketFetcher,
  ticketKind,
} from './app-tokens';
import {
  BATCHES_IN_FLIGHT,
  createLimiter,
  refreshTenantBatch,
  TENANT_BATCH,
  type TenantBatchSpec,
} from './batch-refresh';
import type { Fetcher, TokenManager } from './manager';
import { describeRefreshError } from './policy';

/** The answer of `POST /v1/refresh` (docs/api.md). */
export interface RefreshSummary {
  checked: number;
  refreshed: number;
  failed: { app: string; credential: string; error: string }[];
}

export interface RefreshPassDeps {
  store: Store;
  tokens: TokenManager;
  clock: Clock;
  log: Logger;
  wechat: WechatHttp;
  /** Douyin's API, for `douyin` apps' tokens. */
  douyin: WechatHttp;
  instanceId: string;
  /** WeChat Pay API: platform certificates of merchants that use them. */
  pay: WechatHttp;
  /** WeCom's API: `kind: wecom` apps' tokens. */
  wecom: WechatHttp;
  /** The delivery platforms' APIs: their merchants' tokens (none given: those are left alone). */
  fengniao?: PlatformHttp;
  shansong?: PlatformHttp;
  refreshAheadSeconds: number | undefined;
  concurrency?: number;
  /**
   * Tenant tokens (authorizers' and corps') renewed per pass beyond the urgent ones (default
   * {@link AUTHORIZERS_PER_PASS}).
   */
  authorizersPerPass?: number;
}

/**
 * Tenant tokens (a component's authorizers', a WeCom suite's corps') a pass renews while they
 * still have more than {@link URGENT_MS} left: a burst (many tokens fetched at once, e.g. after an
 * outage) is spread over the passes of the window instead of coming back as one long pass every
 * lifetime. Those with less left are all renewed.
 */
export const AUTHORIZERS_PER_PASS = 1_500;
const URGENT_MS = 5 * 60_000;

// Credential rows are never deleted: once ensured by this process, a pass need not write again.
const ensuredByStore = new WeakMap<Store, Set<string>>();
function ensured(store: Store): Set<string> {
  let set = ensuredByStore.get(store);
  if (set === undefined) {
    set = new Set();
    ensuredByStore.set(store, set);
  }
  return set;
}

/** Credential kind of a WeCom suite's token (shared/wecom-suite/suite.ts, not loaded here). */
const SUITE_TOKEN_KIND = 'suite_access_token';
/** Credential kind of a corp's token (shared/wecom-suite/corps.ts, not loaded here). */
const CORP_TOKEN_KIND = 'corp_access_token';

/** The app name of an authorization-code row (`authcode:<app>:<hash>`), else undefined. */
function parseAuthorizationCodeOwner(owner: string): string | undefined {
  if (!owner.startsWith(AUTHORIZATION_CODE_OWNER_PREFIX)) return undefined;
  return owner.slice(AUTHORIZATION_CODE_OWNER_PREFIX.length).split(':')[0];
}

/** Cap of the selection window: rows expiring later are never selected. */
const MAX_AHEAD_MS = 15 * 60_000;

/**
 * The widest window any kind uses: 10 minutes by default (classic access tokens, tickets,
 * component and authorizer tokens, certificates), or `WXHUB_REFRESH_AHEAD_SECONDS` when wider,
 * up to the cap. Rows expiring later are not read.
 */
function selectionWindowMs(refreshAheadSeconds: number | undefined): number {
  const override = (refreshAheadSeconds ?? 0) * 1000;
  return Math.min(MAX_AHEAD_MS, Math.max(10 * 60_000, override));
}

/** Due rows are read this many at a time (memory stays flat however many are due). */
const DUE_PAGE = 1_000;

/** How a credential kind of an app is fetched and how early; undefined for unknown kinds. */
function planFor(
  deps: RefreshPassDeps,
  app: AppRecord,
  kind: string,
): { fetcher: Fetcher; aheadMs: number } | undefined {
  if (kind === 'access_token') {
    return {
      fetcher: accessTokenFetcher(deps, app),
      aheadMs: accessTokenAheadMs(app, deps.refreshAheadSeconds),
    };
  }
  const type = TICKET_TYPES.find((t) => ticketKind(t) === kind);
  if (type === undefined) return undefined;
  return {
    fetcher: ticketFetcher(deps.tokens, deps, app, type),
    aheadMs: (deps.refreshAheadSeconds ?? TICKET_AHEAD_MS / 1000) * 1000,
  };
}

/** Delivery platforms' merchant tokens (days or a year long) are refreshed this long ahead. */
const DELIVERY_AHEAD_MS = 10 * 60_000;

/** Downloaded platform certificates are fetched again this long before their 12 h are up. */
const CERTIFICATES_AHEAD_MS = 10 * 60_000;

/** Runs `work` over `items` with at most `limit` in flight. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(runners);
}

/** The suite part of the pass, loaded on the first suite row (LAZY_FILES: `wecom-suite-refresh`). */
const suitePart = () => import('../wecom-suite/refresh');

/** A due row of WeCom suite `app` (its token, a pending code; its corps' tokens go in batches). */
async function refreshSuiteRow(
  deps: RefreshPassDeps,
  summary: RefreshSummary,
  app: AppRecord,
  row: DueCredential,
  now: number,
): Promise<void> {
  if (app.appSecret === undefined) return;
  try {
    const part = await suitePart();
    const plan = await part.planSuiteRow(deps, app, row, deps.refreshAheadSeconds, now);
    if (plan === undefined) return;
    if (plan.kind === 'failed') {
      summary.failed.push({ app: app.name, credential: row.kind, error: plan.error });
    } else if (plan.kind === 'done') {
      if (plan.refreshed) summary.refreshed += 1;
    } else {
      await refreshOne(deps, summary, app.name, row, plan);
    }
  } catch (err) {
    summary.failed.push({ app: app.name, credential: row.kind, error: describeRefreshError(err) });
  }
}

/** Refreshes one due credential of `name` (an app or merchant), counting it in `summary`. */
async function refreshOne(
  deps: RefreshPassDeps,
  summary: RefreshSummary,
  name: string,
  row: CredentialKey,
  plan: { fetcher: Fetcher; aheadMs: number },
): Promise<void> {
  try {
    const key = { owner: row.owner, kind: row.kind };
    // The row was just selected: it exists, and need not be ensured again.
    const refreshed = await deps.tokens.refreshAhead(key, plan.fetcher, plan.aheadMs, {
      exists: true,
    });
    if (refreshed) summary.refreshed += 1;
  } catch (err) {
    summary.failed.push({ app: name, credential: row.kind, error: describeRefreshError(err) });
  }
}

/**
 * A component's token (its ticket row is only read): refreshed inside its window when a valid
 * ticket is stored; without one, a failed entry naming the missing ticket and no upstream call.
 */
async function refreshComponentToken(
  deps: RefreshPassDeps,
  summary: RefreshSummary,
  app: AppRecord,
  row: DueCredential,
  now: number,
): Promise<void> {
  if (row.kind !== COMPONENT_TOKEN_KIND || app.appSecret === undefined) return;
  const aheadMs = (deps.refreshAheadSeconds ?? COMPONENT_TOKEN_AHEAD_MS / 1000) * 1000;
  const due = row.expiresAt === undefined || row.expiresAt - now <= aheadMs;
  if (!due) return;
  if ((await currentTicket(deps.store, app, now)) === undefined) {
    summary.failed.push({ app: app.name, credential: row.kind, error: noTicket(app).message });
    return;
  }
  const fetcher = componentTokenFetcher(deps, app);
  await refreshOne(deps, summary, app.name, row, { fetcher, aheadMs });
}

/**
 * Components whose newest ticket is over 12 h old: one config-style entry each (no upstream
 * token call is made with it), logged, and WeChat asked to restart pushes (throttled across
 * instances). Returns the names of those components.
 */
async function reportStaleTickets(
  deps: RefreshPassDeps,
  apps: Map<string, AppRecord>,
  now: number,
  summary: RefreshSummary,
): Promise<Set<string>> {
  const stale = new Set<string>();
  for (const app of apps.values()) {
    if (app.kind !== 'component' || app.appSecret === undefined) continue;
    const since = await staleTicketSince(deps.store, app, now);
    if (since === undefined) continue;
    stale.add(app.name);
    // One component's failure to ask must not stop the pass: it is said in the entry instead.
    const restart = await restartTicketPushes(deps, app).catch(
      (err: unknown) => `asking WeChat to restart pushes failed: ${describeRefreshError(err)}`,
    );
    const error = staleTicketMessage(app, since, restart);
    summary.failed.push({ app: app.name, credential: TICKET_KIND, error });
    deps.log.warn({ app: app.name, config: true, error }, 'component_verify_ticket is stale');
  }
  return stale;
}

/**
 * One refresh pass (timer or `POST /v1/refresh`): makes sure every token-using app has a
 * credential row, selects rows expiring within the widest window through the `expires_at`
 * index, and refreshes those inside their kind's window with bounded concurrency.
 */
export async function runRefreshPass(deps: RefreshPassDeps): Promise<RefreshSummary> {
  const now = deps.clock.now();
  // Apps and merchants whose secrets do not open are reported, and the pass goes on without them.
  const failed: RefreshSummary['failed'] = [];
  const apps = new Map<string, AppRecord>();
  for (const app of await deps.store.apps.list({ enabled: true })) {
    apps.set(appOwner(app), app);
    const owner = appOwner(app);
    const bad = app.unreadable?.find((u) => u.column === 'apps.app_secret');
    if (bad !== undefined && SERVED_TOKEN_KINDS.has(app.kind)) {
      failed.push({ app: app.name, credential: 'access_token', error: bad.message });
      continue;
    }
    if (
      SERVED_TOKEN_KINDS.has(app.kind) &&
      app.appSecret !== undefined &&
      !ensured(deps.store).has(owner)
    ) {
      await deps.store.credentials.ensure({ owner, kind: 'access_token' }, now);
      ensured(deps.store).add(owner);
    }
  }
  for (const app of apps.values()) {
    const owner = appOwner(app);
    if (app.appSecret === undefined) continue;
    // A component's token and a WeCom suite's are kept fresh from their first pass.
    const kind =
      app.kind === 'component'
        ? COMPONENT_TOKEN_KIND
        : app.kind === 'wecom-suite' && deps.wecom !== undefined
          ? SUITE_TOKEN_KIND
          : undefined;
    if (kind === undefined || ensured(deps.store).has(`${owner}/${kind}`)) continue;
    await deps.store.credentials.ensure({ owner, kind }, now);
    ensured(deps.store).add(`${owner}/${kind}`);
  }
  const merchants = new Map<string, MerchantRecord>();
  for (const m of await deps.store.merchants.list({ enabled: true })) {
    const [bad] = m.unreadable ?? [];
    if (bad !== undefined) {
      if (m.publicKeyId === undefined || m.platformCertificates.length > 0) {
        failed.push({ app: m.name, credential: CERTIFICATES_KIND, error: bad.message });
      }
      continue;
    }
    if (!merchantKeys(m).usesCertificates) continue;
    const owner = merchantOwner(m);
    merchants.set(owner, m);
    if (!ensured(deps.store).has(owner)) {
      await deps.store.credentials.ensure({ owner, kind: CERTIFICATES_KIND }, now);
      ensured(deps.store).add(owner);
    }
  }
  const summary: RefreshSummary = { checked: 0, refreshed: 0, failed };
  // WeCom's code is loaded only by a pass that has a WeCom app to renew.
  const wecom = [...apps.values()].some((a) => a.kind === 'wecom') ? await loadWecom() : undefined;
  const stale = await reportStaleTickets(deps, apps, now, summary);
  const concurrency = deps.concurrency ?? 16;
  /** Upstream calls of tenant batches: `concurrency` at once across the batches in flight. */
  const calls = createLimiter(concurrency);
  // Authorizer and corp tokens are both renewed 10 minutes ahead (SUITE_TOKEN_AHEAD_MS too).
  const tenantAheadMs = (deps.refreshAheadSeconds ?? COMPONENT_TOKEN_AHEAD_MS / 1000) * 1000;
  /** Components and suites whose own token could not be had: tenant tokens left due, and why. */
  const sharedDown = new Map<
    string,
    { due: number; error: unknown; kind: string; tenant: string }
  >();
  /** How each app's tenant tokens are renewed (a suite's: from its lazily loaded part). */
  const specs = new Map<string, TenantBatchSpec<string>>();
  const specOf = async (app: AppRecord) => {
    let spec = specs.get(app.name);
    if (spec === undefined) {
      spec =
        app.kind === 'wecom-suite'
          ? (await suitePart()).corpBatchSpec(deps, app)
          : authorizerBatchSpec(deps, app);
      specs.set(app.name, spec);
    }
    return spec;
  };

  const refreshRow = async (row: DueCredential) => {
    const merchant = merchants.get(row.owner);
    if (merchant !== undefined && row.kind === CERTIFICATES_KIND) {
      await refreshOne(deps, summary, merchant.name, row, {
        fetcher: certificatesFetcher({ pay: deps.pay, clock: deps.clock }, merchant),
        aheadMs: CERTIFICATES_AHEAD_MS,
      });
      return;
    }
    const authorizer = parseAuthorizerOwner(row.owner);
    if (authorizer !== undefined) {
      const component = apps.get(`app:${authorizer.name}`);
      // An authorizer's ticket, once fetched (its tokens, and corps' tokens, go in batches, below).
      const type = TICKET_TYPES.find((t) => ticketKind(t) === row.kind);
      if (component?.kind !== 'component' || type === undefined) return;
      await refreshOne(deps, summary, component.name, row, {
        fetcher: authorizerTicketFetcher(deps, component, authorizer.authorizerAppId, type),
        aheadMs: (deps.refreshAheadSeconds ?? TICKET_AHEAD_MS / 1000) * 1000,
      });
      return;
    }
    const platformMerchant = parseMerchantOwner(row.owner);
    if (platformMerchant !== undefined) {
      // A delivery platform's merchant token: its code loads only when one is due.
      const owner = apps.get(`app:${platformMerchant.app}`);
      if (owner === undefined) return;
      const aheadMs = (deps.refreshAheadSeconds ?? DELIVERY_AHEAD_MS / 1000) * 1000;
      if (row.expiresAt !== undefined && row.expiresAt - now > aheadMs) return;
      const { merchantRefreshPlan } = await import('../delivery/refresh');
      const fetcher = await merchantRefreshPlan(deps, owner, platformMerchant, row.kind);
      if (fetcher !== undefined)
        await refreshOne(deps, summary, owner.name, row, { fetcher, aheadMs });
      return;
    }
    const code = parseAuthorizationCodeOwner(row.owner);
    if (code !== undefined) {
      const suite = apps.get(`app:${code}`);
      if (suite?.kind === 'wecom-suite') await refreshSuiteRow(deps, summary, suite, row, now);
      return;
    }
    const app = apps.get(row.owner);
    if (app?.kind === 'wecom-suite') {
      await refreshSuiteRow(deps, summary, app, row, now);
      return;
    }
    if (app?.kind === 'component') {
      // A stale ticket was reported once above; its token is not asked for with it.
      if (!stale.has(app.name)) await refreshComponentToken(deps, summary, app, row, now);
      return;
    }
    if (app === undefined || app.appSecret === undefined) return;
    const plan = TOKEN_KINDS.has(app.kind)
      ? planFor(deps, app, row.kind)
      : wecom?.wecomRefreshPlan(deps, app, row.kind);
    if (plan === undefined) return;
    // Outside its own window: nothing to do, and no lease to take.
    if (row.expiresAt !== undefined && row.expiresAt - now > plan.aheadMs) return;
    await refreshOne(deps, summary, app.name, row, plan);
  };

  /** Non-urgent tenant tokens this pass may still take. */
  let spare = deps.authorizersPerPass ?? AUTHORIZERS_PER_PASS;
  let after: DueCursor | undefined;
  for (;;) {
    const page = await deps.store.credentials.listDueKeys({
      before: now + selectionWindowMs(deps.refreshAheadSeconds),
      now,
      limit: DUE_PAGE,
      ...(after === undefined ? {} : { after }),
      // A revoked authorizer's cleared rows have nothing to refresh them from.
      unsetNeverDue: AUTHORIZER_OWNER_PREFIX,
    });
    summary.checked += page.length;
    // Tenant tokens inside their window (a component's authorizers, a WeCom suite's corps) go
    // in batches per app; the rest one by one.
    const tenantsDue = new Map<string, { app: AppRecord; ids: string[] }>();
    const others: DueCredential[] = [];
    for (const row of page) {
      const tenant = parseAuthorizerOwner(row.owner);
      if (tenant === undefined) {
        others.push(row);
        continue;
      }
      const app = apps.get(`app:${tenant.name}`);
      const batched =
        app?.kind === 'component'
          ? AUTHORIZER_TOKEN_KIND
          : app?.kind === 'wecom-suite'
            ? CORP_TOKEN_KIND
            : undefined;
      if (app === undefined || batched === undefined) continue;
      if (row.kind !== batched) {
        // An authorizer's tickets go one by one (its other rows, and a corp's, are never due:
        // they do not expire).
        if (app.kind === 'component' && TICKET_TYPES.some((t) => ticketKind(t) === row.kind)) {
          others.push(row);
        }
        continue;
      }
      if (row.expiresAt === undefined || row.expiresAt - now > tenantAheadMs) continue;
      if (row.expiresAt - now > Math.min(URGENT_MS, tenantAheadMs)) {
        if (spare <= 0) continue; // left for the next passes of its window
        spare -= 1;
      }
      const group = tenantsDue.get(app.name) ?? { app, ids: [] };
      group.ids.push(tenant.authorizerAppId);
      tenantsDue.set(app.name, group);
    }
    await eachLimited(others, concurrency, refreshRow);
    const batches = [...tenantsDue.values()].flatMap(({ app, ids }) =>
      Array.from({ length: Math.ceil(ids.length / TENANT_BATCH) }, (_, i) => ({
        app,
        ids: ids.slice(i * TENANT_BATCH, (i + 1) * TENANT_BATCH),
      })),
    );
    await eachLimited(batches, BATCHES_IN_FLIGHT, async ({ app, ids }) => {
      const down = sharedDown.get(app.name);
      if (down !== undefined) {
        down.due += ids.length;
        return;
      }
      let spec: TenantBatchSpec<string>;
      try {
        spec = await specOf(app);
      } catch (err) {
        summary.failed.push({
          app: app.name,
          credential: CORP_TOKEN_KIND,
          error: describeRefreshError(err),
        });
        return;
      }
      const r = await refreshTenantBatch(deps, spec, ids, tenantAheadMs, calls);
      summary.refreshed += r.refreshed;
      for (const f of r.failed) {
        summary.failed.push({
          app: app.name,
          credential: spec.tokenKind,
          error: `${spec.tenant} ${f.id}: ${f.error}`,
        });
      }
      if (r.sharedError === undefined) return;
      const seen = sharedDown.get(app.name);
      if (seen === undefined) {
        const { tokenKind: kind, tenant } = spec;
        sharedDown.set(app.name, { due: ids.length, error: r.sharedError, kind, tenant });
      } else seen.due += ids.length;
    });
    const last = page.at(-1);
    if (page.length < DUE_PAGE || last === undefined) break;
    after = { expiresAt: last.expiresAt, id: last.id };
  }
  // One line per component or suite whose token was missing, not one per tenant: no call was made.
  for (const [name, down] of sharedDown) {
    summary.failed.push({
      app: name,
      credential: down.kind,
      error: `${down.due} ${down.tenant} tokens due and not renewed: ${describeRefreshError(down.error)}`,
    });
  }
  // Credentials held back by a recorded failure (e.g. 40164) stay visible until fixed.
  const reported = new Set(summary.failed.map((f) => `${f.app}/${f.credential}`));
  for (const row of await deps.store.credentials.listFailing(now, 1000)) {
    const platformMerchant = parseMerchantOwner(row.owner);
    const app =
      apps.get(row.owner) ??
      merchants.get(row.owner) ??
      (platformMerchant === undefined ? undefined : apps.get(`app:${platformMerchant.app}`));
    if (app === undefined || reported.has(`${app.name}/${row.kind}`)) continue;
    const retry = new Date(row.nextAttemptAt ?? now).toISOString();
    summary.failed.push({
      app: app.name,
      credential: row.kind,
      error: `${row.lastError ?? 'failed'} (next attempt ${retry})`,
    });
  }
  deps.log.info(
    { checked: summary.checked, refreshed: summary.refreshed, failed: summary.failed.length },
    'refresh pass',
  );
  return summary;
}
