import { describe, withTimeout } from '../http/app';
import type { Deps } from '../platform/deps';
import { credentialProblems, ticketAges } from './conditions';
import type { HealthDetail } from './ops';

/** Longest a check may take before it counts as failed. */
const CHECK_MS = 2_000;

const within = <T>(p: Promise<T>): Promise<T> => withTimeout(p, CHECK_MS);

/**
 * `GET /healthz?detail=1`: the database read and write checks (a write probe, so a deleted or
 * read-only SQLite file shows), credentials in error with their codes, each component's ticket
 * age (components' and WeCom suites', the oldest first), and the outbox's dead and pending rows. 503 when the database does not
 * answer or take a write; `degraded` (200) when it does but something needs a person.
 */
export async function healthDetail(deps: Deps): Promise<HealthDetail> {
  const now = deps.clock.now();
  let db = 'ok';
  let write = 'ok';
  try {
    await within(deps.store.ping());
  } catch (err) {
    db = 'down';
    deps.log.warn({ err: describe(err) }, 'health check: db down');
  }
  try {
    await within(deps.store.probeWrite());
  } catch (err) {
    // The reason is a code or our own sentence, never SQL or a parameter.
    const d = describe(err);
    write = `failed: ${d.code ?? (d.name === 'Error' ? d.message : d.name)}`;
    deps.log.warn({ err: d }, 'health check: the database takes no write');
  }
  if (db !== 'ok' || write !== 'ok') {
    return { ok: false, body: { status: 'unavailable', db, write } };
  }
  const [credentials, tickets, dead, pending] = await Promise.all([
    credentialProblems(deps.store, now),
    ticketAges(deps.store, now),
    deps.store.outbox.countStatus('dead'),
    deps.store.outbox.countStatus('pending'),
  ]);
  tickets.sort(
    (a, b) => (b.ageSeconds ?? Number.MAX_SAFE_INTEGER) - (a.ageSeconds ?? Number.MAX_SAFE_INTEGER),
  );
  const oldest = tickets[0];
  const degraded = credentials.length > 0 || tickets.some((t) => t.stale) || dead > 0;
  return {
    ok: true,
    body: {
      status: degraded ? 'degraded' : 'ok',
      db,
      write,
      credentialsInError: credentials,
      oldestTicketAgeSeconds: oldest === undefined ? null : oldest.ageSeconds,
      tickets,
      outbox: { dead, pending },
    },
  };
}
