import { AUTHORIZATION_CODE_KIND } from '../component/authorizers';
import type { Logger } from '../http/log';
import type { AppRecord, DueCredential } from '../store';
import type { Fetcher } from '../tokens/manager';
import { CORP_TOKEN_KIND, corpTokenFetcher, exchangePending } from './corps';
import {
  currentSuiteTicket,
  noSuiteTicket,
  SUITE_TOKEN_AHEAD_MS,
  SUITE_TOKEN_KIND,
  type SuiteDeps,
  suiteTokenFetcher,
} from './suite';

/**
 * The refresh pass's part for WeCom suites, loaded by the pass on the first suite row it meets
 * (LAZY_FILES): the suite token (only with a valid ticket: without one, a failed entry and no
 * call), each corp token, and a `create_auth` code whose exchange did not finish.
 */

/** What the pass asks of one due row of a suite, or undefined when it is not the suite's. */
export type SuiteRowPlan =
  | { kind: 'refresh'; fetcher: Fetcher; aheadMs: number }
  | { kind: 'failed'; error: string }
  | { kind: 'done'; refreshed: boolean }
  | undefined;

export async function planSuiteRow(
  deps: SuiteDeps & { log: Logger; instanceId: string },
  app: AppRecord,
  row: DueCredential,
  corpId: string | undefined,
  refreshAheadSeconds: number | undefined,
  now: number,
): Promise<SuiteRowPlan> {
  const aheadMs = (refreshAheadSeconds ?? SUITE_TOKEN_AHEAD_MS / 1000) * 1000;
  if (row.kind === AUTHORIZATION_CODE_KIND) {
    // A pushed code kept pending (its exchange stopped): exchanged now, once.
    const refreshed = await exchangePending(deps, app, { owner: row.owner, kind: row.kind });
    return { kind: 'done', refreshed };
  }
  if (row.expiresAt !== undefined && row.expiresAt - now > aheadMs) return undefined;
  if (corpId !== undefined) {
    if (row.kind !== CORP_TOKEN_KIND) return undefined;
    return { kind: 'refresh', fetcher: corpTokenFetcher(deps, app, corpId), aheadMs };
  }
  if (row.kind !== SUITE_TOKEN_KIND) return undefined;
  if ((await currentSuiteTicket(deps.store, app, now)) === undefined) {
    return { kind: 'failed', error: noSuiteTicket(app).message };
  }
  return { kind: 'refresh', fetcher: suiteTokenFetcher(deps, app), aheadMs };
}

export { SUITE_TOKEN_KIND };
