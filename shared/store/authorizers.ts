import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db, Row } from './dialect';
import type { AuthorizerRecord, AuthorizersRepo } from './types';

/** The authorizer directory of third-party platforms (no tokens: see `credentials`). */
export function authorizersRepo(db: Db): AuthorizersRepo {
  const { authorizers: a } = db.t;
  const byKey = (app: string, appId: string) => and(eq(a.app, app), eq(a.authorizerAppId, appId));
  return {
    async markAuthorized(app, appId, f, now) {
      const known = {
        ...(f.funcInfo === undefined ? {} : { funcInfo: JSON.stringify(f.funcInfo) }),
        ...(f.nickName === undefined ? {} : { nickName: f.nickName }),
        ...(f.userName === undefined ? {} : { userName: f.userName }),
      };
      const added = await db.insertIgnore('authorizers', {
        app,
        authorizerAppId: appId,
        status: 'authorized',
        funcInfo: '[]',
        ...known,
        authorizedAt: f.authorizedAt,
        updatedAt: now,
      });
      if (added !== undefined) return 'added';
      const set = {
        status: 'authorized',
        ...known,
        authorizedAt: f.authorizedAt,
        revokedAt: null,
        updatedAt: now,
      };
      await db.update('authorizers', set, byKey(app, appId));
      return 'updated';
    },
    async markRevoked(app, appId, now) {
      const set = { status: 'revoked', revokedAt: now, updatedAt: now };
      await db.upsert(
        'authorizers',
        { app, authorizerAppId: appId, funcInfo: '[]', authorizedAt: now, ...set },
        { target: ['app', 'authorizerAppId'], set },
      );
    },
    async get(app, appId) {
      const row = await db.first('authorizers', byKey(app, appId));
      return row === undefined ? undefined : record(row);
    },
    async getMany(app, appIds) {
      if (appIds.length === 0) return [];
      const where = and(eq(a.app, app), inArray(a.authorizerAppId, [...appIds]));
      return (await db.select('authorizers', where)).map(record);
    },
    async list(app, q) {
      const where = and(
        eq(a.app, app),
        q.status === undefined ? undefined : eq(a.status, q.status),
      );
      const rows = await db.select('authorizers', where, {
        orderBy: asc(a.authorizerAppId),
        limit: q.limit,
        offset: q.offset,
      });
      return { authorizers: rows.map(record), total: await db.count('authorizers', where) };
    },
  };
}

function record(row: Row<'authorizers'>): AuthorizerRecord {
  return {
    app: row.app,
    appId: row.authorizerAppId,
    status: row.status === 'revoked' ? 'revoked' : 'authorized',
    nickName: row.nickName ?? undefined,
    userName: row.userName ?? undefined,
    funcInfo: funcIds(row.funcInfo),
    authorizedAt: row.authorizedAt,
    updatedAt: row.updatedAt,
    revokedAt: row.revokedAt ?? undefined,
  };
}

function funcIds(json: string): number[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
  } catch {
    return [];
  }
}
