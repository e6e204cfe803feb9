import { AUTHORIZATION_CODE_KIND, authorizerOwner } from '../component/authorizers';
import type { Logger } from '../http/log';
import type { AppRecord, DueCredential } from '../store';
import type { BatchDeps, TenantBatchSpec } from '../tokens/batch-refresh';
import type { Fetcher } from '../tokens/manager';
import {
  CORP_TOKEN_KIND,
  exchangePending,
  noPermanentCode,
  PERMANENT_CODE_KIND,
  requestCorpToken,
} from './corps';
import {
  currentSuiteTicket,
  noSuiteTicket,
  SUITE_TOKEN_AHEAD_MS,
  SUITE_TOKEN_KIND,
  type SuiteDeps,
  suiteAccessToken,
  suiteTokenFetcher,
} from './suite';

/**
 * The refresh pass's part for WeCom suites, loaded by the pass on the first suite row it meets
 * (LAZY_FILES): the suite token (only with a valid ticket: without one, a failed entry and no
 * call), the corp tokens in batches (as a component's authorizer tokens, with the suite token
 * had once per batch and the permanent codes read in one query per batch), and a `create_auth`
 * code whose exchange did not finish.
 */

/**
 * How the corp tokens of suite `app` are renewed in a batch: the suite token had once, each
 * corp's sealed permanent code read with the batch's others, one `get_corp_token` per corp; a
 * corp without a permanent code (cancelled) is refused without a call.
 */
export function corpBatchSpec(
  deps: SuiteDeps & BatchDeps,
  app: AppRecord,
): TenantBatchSpec<string> {
  return {
    tokenKind: CORP_TOKEN_KIND,
    secretKind: PERMANENT_CODE_KIND,
    ownerOf: (corpId) => authorizerOwner(app, corpId),
    shared: async () => (await suiteAccessToken(deps, app)).value,
    missing: noPermanentCode,
    fetch: (corpId, permanent, suiteToken) =>
      requestCorpToken(deps, app, corpId, permanent, suiteToken),
    app: app.name,
    tenant: 'corp',
  };
}

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
  if (row.kind !== SUITE_TOKEN_KIND) return undefined;
  if ((await currentSuiteTicket(deps.store, app, now)) === undefined) {
    return { kind: 'failed', error: noSuiteTicket(app).message };
  }
  return { kind: 'refresh', fetcher: suiteTokenFetcher(deps, app), aheadMs };
}

export { SUITE_TOKEN_KIND };
