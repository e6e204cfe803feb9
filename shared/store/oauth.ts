import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Db } from './dialect';
import type { OAuthRepo, OAuthStateRecord, OAuthTicketRecord, Taken } from './types';

/**
 * States and tickets of the OAuth2 web authorization. Both are single use: taking one is one
 * conditional UPDATE (`used_at` set only while null and unexpired), so of two concurrent takes
 * exactly one wins on both dialects.
 */
export function oauthRepo(db: Db): OAuthRepo {
  const { oauthStates: s, oauthTickets: t } = db.t;

  /** Why a row that the UPDATE did not take was not taken. */
  const why = (row: { usedAt: number | null } | undefined): Taken<never> => {
    if (row === undefined) return { outcome: 'unknown' };
    return row.usedAt === null ? { outcome: 'expired' } : { outcome: 'used' };
  };

  return {
    async putState(stateHash, state, now) {
      await db.insert('oauthStates', [{ stateHash, ...state, usedAt: null, createdAt: now }]);
    },
    async takeState(stateHash, app, now) {
      const mine = and(eq(s.stateHash, stateHash), eq(s.app, app));
      const n = await db.update(
        'oauthStates',
        { usedAt: now },
        and(mine, isNull(s.usedAt), gt(s.expiresAt, now)),
      );
      const row = await db.first('oauthStates', mine);
      if (n !== 1 || row === undefined) return why(row);
      const record: OAuthStateRecord = {
        app: row.app,
        scope: row.scope,
        redirect: row.redirect,
        expiresAt: row.expiresAt,
      };
      return { outcome: 'taken', record };
    },
    async putTicket(ticketHash, ticket, now) {
      await db.insert('oauthTickets', [
        {
          ticketHash,
          app: ticket.app,
          openid: ticket.openid,
          unionid: ticket.unionid ?? null,
          scope: ticket.scope,
          user: ticket.user === undefined ? null : JSON.stringify(ticket.user),
          snapshotUser: ticket.snapshotUser,
          expiresAt: ticket.expiresAt,
          usedAt: null,
          createdAt: now,
        },
      ]);
    },
    async takeTicket(ticketHash, now) {
      const mine = eq(t.ticketHash, ticketHash);
      const n = await db.update(
        'oauthTickets',
        { usedAt: now },
        and(mine, isNull(t.usedAt), gt(t.expiresAt, now)),
      );
      const row = await db.first('oauthTickets', mine);
      if (n !== 1 || row === undefined) return why(row);
      const record: OAuthTicketRecord = {
        app: row.app,
        openid: row.openid,
        unionid: row.unionid ?? undefined,
        scope: row.scope,
        user: row.user === null ? undefined : (JSON.parse(row.user) as Record<string, unknown>),
        snapshotUser: row.snapshotUser,
        expiresAt: row.expiresAt,
      };
      return { outcome: 'taken', record };
    },
    async purgeExpired(before, limit) {
      const states = await db.delete('oauthStates', lt(s.expiresAt, before), { limit });
      const tickets = await db.delete('oauthTickets', lt(t.expiresAt, before), { limit });
      return states + tickets;
    },
  };
}
