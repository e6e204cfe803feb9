import { parseAuthorizerOwner } from '../component/authorizers';
import { TICKET_KIND, TICKET_TTL_MS } from '../component/component';
import type { AppRecord, CredentialRecord, Store } from '../store';
import { appOwner } from '../tokens/app-tokens';
import { isConfigErrorMessage } from '../tokens/policy';

/** A credential whose last refresh failed (and is not retried before `nextAttemptAt`). */
export interface CredentialProblem {
  /** The app or merchant (an authorizer's component, with `authorizer`). */
  app: string;
  authorizer?: string;
  kind: string;
  /** WeChat's errcode, or a code of the hub's (`UNREADABLE_SECRET`); null when neither. */
  code: string | null;
  error: string;
  /** A configuration error: retrying cannot fix it (40164, 40125, 61023, a secret that does not open…). */
  config: boolean;
}

/** A component's `component_verify_ticket`: how old the newest is, and whether past its 12 h. */
export interface TicketAge {
  app: string;
  /** Seconds since the newest ticket was pushed; null when none ever arrived. */
  ageSeconds: number | null;
  stale: boolean;
}

/** Credentials that failed, most this many (the oldest failures first is not promised). */
const MAX_PROBLEMS = 200;

/** The owner's name: `app:oa` → `oa`; an authorizer's → its component and appid. */
function ownerParts(owner: string): { app: string; authorizer?: string } {
  const a = parseAuthorizerOwner(owner);
  if (a !== undefined) return { app: a.name, authorizer: a.authorizerAppId };
  const i = owner.indexOf(':');
  return { app: i < 0 ? owner : owner.slice(i + 1) };
}

function credentialProblem(row: CredentialRecord): CredentialProblem {
  const message = row.lastError ?? 'failed';
  const m = /^errcode (-?\d+):/.exec(message);
  return {
    ...ownerParts(row.owner),
    kind: row.kind,
    code: m?.[1] ?? null,
    error: message,
    config: isConfigErrorMessage(message),
  };
}

/**
 * Credentials in error now: rows whose last refresh failed and wait for their next attempt, and
 * enabled apps and merchants whose sealed secret does not open (`UNREADABLE_SECRET`: nothing can
 * be refreshed for them). Messages are the stored one-liners: WeChat's errcode and errmsg (with
 * the IP of a 40164), never a secret.
 */
export async function credentialProblems(store: Store, now: number): Promise<CredentialProblem[]> {
  const problems = (await store.credentials.listFailing(now, MAX_PROBLEMS)).map(credentialProblem);
  const unreadable = (r: { name: string; unreadable?: AppRecord['unreadable'] }, kind: string) => {
    const [bad] = r.unreadable ?? [];
    if (bad === undefined) return;
    problems.push({
      app: r.name,
      kind,
      code: 'UNREADABLE_SECRET',
      error: `${bad.column} does not open: ${bad.message}`,
      config: true,
    });
  };
  for (const app of await store.apps.list({ enabled: true })) unreadable(app, 'access_token');
  for (const m of await store.merchants.list({ enabled: true })) unreadable(m, 'merchant');
  return problems;
}

/**
 * The pushed ticket each kind lives on, and how long one stays valid after its push: a third-party
 * platform's `component_verify_ticket` (12 h) and a WeCom suite's `suite_ticket` (30 minutes,
 * https://developer.work.weixin.qq.com/document/path/90628; the suite's own code keeps the same
 * values, shared/wecom-suite/suite.ts, which the metrics code does not load: a test compares).
 */
export const PUSHED_TICKETS: Readonly<Record<string, { kind: string; ttlMs: number }>> = {
  component: { kind: TICKET_KIND, ttlMs: TICKET_TTL_MS },
  'wecom-suite': { kind: 'suite_ticket', ttlMs: 30 * 60_000 },
};

/** The ticket of each enabled component or suite app: its age and whether it is past its validity. */
export async function ticketAges(store: Store, now: number): Promise<TicketAge[]> {
  const ages: TicketAge[] = [];
  for (const app of await store.apps.list({ enabled: true })) {
    const ticket = PUSHED_TICKETS[app.kind];
    if (ticket === undefined) continue;
    const row = await store.credentials.get({ owner: appOwner(app), kind: ticket.kind });
    if (row?.expiresAt === undefined) {
      ages.push({ app: app.name, ageSeconds: null, stale: true });
      continue;
    }
    const pushedAt = row.expiresAt - ticket.ttlMs;
    ages.push({
      app: app.name,
      ageSeconds: Math.max(0, Math.floor((now - pushedAt) / 1000)),
      stale: row.expiresAt <= now,
    });
  }
  return ages;
}
