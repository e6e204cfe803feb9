import {
  AUTHORIZER_TOKEN_KIND,
  authorizerTokenFetcher,
  parseAuthorizerOwner,
} from '../component/authorizers';
import { COMPONENT_TOKEN_KIND, componentTokenFetcher, TICKET_KIND } from '../component/component';
import { authorizerTicketFetcher } from '../component/credentials';
import { AppError } from '../http/errors';
import { CERTIFICATES_KIND, certificatesFetcher } from '../pay/merchant';
import type { Deps } from '../platform/deps';
import type { CredentialKey, CredentialRecord } from '../store';
import {
  accessTokenFetcher,
  loadWecom,
  TICKET_TYPES,
  TOKEN_KINDS,
  ticketFetcher,
  ticketKind,
} from '../tokens/app-tokens';
import type { Fetcher } from '../tokens/manager';

/** The credentials the hub serves and refreshes (the dashboard's list; bookkeeping rows aside). */
export const SERVED_KINDS: readonly string[] = [
  'access_token',
  ...TICKET_TYPES.map(ticketKind),
  COMPONENT_TOKEN_KIND,
  TICKET_KIND,
  AUTHORIZER_TOKEN_KIND,
  CERTIFICATES_KIND,
];

const notRefreshable = (k: CredentialKey) =>
  new AppError(
    'BAD_REQUEST',
    `${k.kind} of ${k.owner} is not refreshed by the hub; refresh an access token, a ticket, a component or authorizer token, or platform certificates`,
  );

/**
 * The fetcher the refresh pass uses for `k` (the same factories: one fetcher per credential kind,
 * never a second one), with the app or merchant it belongs to read from the store; 404 when the
 * owner is unknown or disabled, 400 for a kind the hub does not refresh.
 */
async function fetcherFor(deps: Deps, k: CredentialKey): Promise<Fetcher> {
  const [prefix, name] = k.owner.split(':', 2);
  if (prefix === 'merchant' && name !== undefined) {
    if (k.kind !== CERTIFICATES_KIND) throw notRefreshable(k);
    return certificatesFetcher(deps, await deps.merchants.require(name));
  }
  const authorizer = parseAuthorizerOwner(k.owner);
  if (authorizer !== undefined) {
    const app = await deps.apps.require(authorizer.name);
    if (k.kind === AUTHORIZER_TOKEN_KIND) {
      return authorizerTokenFetcher(deps, app, authorizer.authorizerAppId);
    }
    const type = TICKET_TYPES.find((t) => ticketKind(t) === k.kind);
    if (type === undefined) throw notRefreshable(k);
    return authorizerTicketFetcher(deps, app, authorizer.authorizerAppId, type);
  }
  if (prefix !== 'app' || name === undefined) throw notRefreshable(k);
  const app = await deps.apps.require(name);
  if (app.kind === 'component' && k.kind === COMPONENT_TOKEN_KIND) {
    return componentTokenFetcher(deps, app);
  }
  if (app.kind === 'wecom') {
    const plan = (await loadWecom()).wecomRefreshPlan(
      { wecom: deps.wecom, refreshAheadSeconds: undefined },
      app,
      k.kind,
    );
    if (plan === undefined) throw notRefreshable(k);
    return plan.fetcher;
  }
  if (!TOKEN_KINDS.has(app.kind)) throw notRefreshable(k);
  if (k.kind === 'access_token') return accessTokenFetcher(deps, app);
  const type = TICKET_TYPES.find((t) => ticketKind(t) === k.kind);
  if (type === undefined) throw notRefreshable(k);
  return ticketFetcher(deps.tokens, deps, app, type);
}

/**
 * "Refresh now": fetches a new value of an existing credential through the credential manager's
 * timer path (`refreshAhead`, whatever its expiry), so under the database lease: one upstream
 * call across instances (an instance refreshing it at the same time answers instead). Returns
 * the row as stored after.
 */
export async function refreshCredential(deps: Deps, k: CredentialKey): Promise<CredentialRecord> {
  if ((await deps.store.credentials.get(k)) === undefined) {
    throw new AppError('NOT_FOUND', `no credential ${k.kind} of ${k.owner}`);
  }
  const fetcher = await fetcherFor(deps, k);
  await deps.tokens.refreshAhead(k, fetcher, Number.POSITIVE_INFINITY, { exists: true });
  deps.tokens.forget(k);
  const row = await deps.store.credentials.get(k);
  if (row === undefined) throw new AppError('NOT_FOUND', `no credential ${k.kind} of ${k.owner}`);
  return row;
}
