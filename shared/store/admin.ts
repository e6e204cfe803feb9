import { and, asc, desc, eq, gte, lt, lte, ne } from 'drizzle-orm';
import type { Db, Row } from './dialect';

/** A console user as stored (the password only as its scrypt hash). */
export interface AdminUserRecord {
  id: number;
  name: string;
  passwordHash: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A console session, found by the SHA-256 of its cookie token (never the token). */
export interface AdminSessionRecord {
  tokenHash: string;
  userId: number;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute expiry (epoch ms). */
  expiresAt: number;
}

/** One audit row: who did what to what, when and from where; `detail` never holds a secret. */
export interface AuditRecord {
  id: number;
  at: number;
  actor: { id: number; name: string } | null;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

export interface NewAuditRecord {
  at: number;
  actor: { id: number; name: string } | null;
  action: string;
  target?: string | undefined;
  ip?: string | undefined;
  detail?: Record<string, string | number | boolean | null> | undefined;
}

/** A console-made bearer key as listed: never the key, only its recognisable prefix. */
export interface ApiKeyRecord {
  id: number;
  name: string;
  prefix: string;
  createdBy: string;
  createdAt: number;
  lastUsedAt: number | undefined;
  revokedAt: number | undefined;
}

/** Console users, sessions, login failures, the audit and console-made API keys. */
export interface AdminRepo {
  userByName(name: string): Promise<AdminUserRecord | undefined>;
  userById(id: number): Promise<AdminUserRecord | undefined>;
  /** Creates the user `name` (enabled) or sets its password hash and enables it. */
  setUser(name: string, passwordHash: string, now: number): Promise<'created' | 'updated'>;
  /** Enables user `id` (its password unchanged). */
  enableUser(id: number, now: number): Promise<void>;
  /** Disables every enabled user but `id` (one UPDATE); how many it disabled. */
  disableUsersExcept(id: number, now: number): Promise<number>;

  createSession(session: AdminSessionRecord): Promise<void>;
  session(tokenHash: string): Promise<AdminSessionRecord | undefined>;
  /** Moves the session's `last_seen_at` to `now`. */
  touchSession(tokenHash: string, now: number): Promise<void>;
  /** Deletes the session: whether it existed. */
  deleteSession(tokenHash: string): Promise<boolean>;
  /** Deletes the sessions of user `userId` (`except`: of every user but `userId`); how many. */
  deleteUserSessions(userId: number, except?: boolean): Promise<number>;
  /** Deletes up to `limit` sessions whose absolute expiry is before `now`; how many. */
  purgeSessions(now: number, limit: number): Promise<number>;

  /**
   * Records one login attempt for `userName` (before its password is checked): its id and its
   * rank among the user's attempts at or after `since`, counting only those stored before it (so
   * of concurrent attempts each gets its own rank, and exactly one is the 5th).
   */
  addLoginAttempt(
    userName: string,
    at: number,
    ip: string | undefined,
    since: number,
  ): Promise<{ id: number; rank: number }>;
  /** Forgets attempt `id` (its password was right). */
  deleteLoginAttempt(id: number): Promise<void>;
  /** Attempts (failed or under way) for `userName` at or after `since`. */
  countLoginFailures(userName: string, since: number): Promise<number>;
  /** Deletes up to `limit` attempts (anyone's) made before `before`; how many. */
  purgeLoginFailures(before: number, limit: number): Promise<number>;

  addAudit(entry: NewAuditRecord): Promise<void>;
  /** The newest `limit` entries, newest first. */
  listAudit(limit: number): Promise<AuditRecord[]>;

  /** Stores a new key by its hash; its id. */
  createApiKey(key: {
    name: string;
    prefix: string;
    keyHash: string;
    createdBy: string;
    createdAt: number;
  }): Promise<number>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** The key with this SHA-256 hash (one indexed read), revoked or not. */
  apiKeyByHash(keyHash: string): Promise<{ id: number; revokedAt: number | undefined } | undefined>;
  /** Revokes key `id` (once: a second revoke keeps the first time); false when there is none. */
  revokeApiKey(id: number, now: number): Promise<boolean>;
  touchApiKey(id: number, now: number): Promise<void>;
}

/** Longest user name kept in the failure count (longer names are cut, as they are stored). */
export const USER_NAME_MAX = 64;

export function adminRepo(db: Db): AdminRepo {
  // Each table is read where a method uses it (the SQLite store builds a table on first use, and
  // every function makes this repository at start for its API key check).
  const t = db.t;
  return {
    async userByName(name) {
      const row = await db.first('adminUsers', eq(t.adminUsers.name, name));
      return row === undefined ? undefined : userRecord(row);
    },
    async userById(id) {
      const row = await db.first('adminUsers', eq(t.adminUsers.id, id));
      return row === undefined ? undefined : userRecord(row);
    },
    async setUser(name, passwordHash, now) {
      const added = await db.insertIgnore('adminUsers', {
        name,
        passwordHash,
        enabled: true,
        createdAt: now,
        updatedAt: now,
      });
      if (added !== undefined) return 'created';
      await db.update(
        'adminUsers',
        { passwordHash, enabled: true, updatedAt: now },
        eq(t.adminUsers.name, name),
      );
      return 'updated';
    },
    async enableUser(id, now) {
      await db.update('adminUsers', { enabled: true, updatedAt: now }, eq(t.adminUsers.id, id));
    },
    async disableUsersExcept(id, now) {
      return db.update(
        'adminUsers',
        { enabled: false, updatedAt: now },
        and(eq(t.adminUsers.enabled, true), ne(t.adminUsers.id, id)),
      );
    },

    async createSession(session) {
      await db.insert('adminSessions', [session]);
    },
    async session(tokenHash) {
      const row = await db.first('adminSessions', eq(t.adminSessions.tokenHash, tokenHash));
      if (row === undefined) return undefined;
      return {
        tokenHash: row.tokenHash,
        userId: row.userId,
        csrfToken: row.csrfToken,
        createdAt: row.createdAt,
        lastSeenAt: row.lastSeenAt,
        expiresAt: row.expiresAt,
      };
    },
    async touchSession(tokenHash, now) {
      await db.update(
        'adminSessions',
        { lastSeenAt: now },
        eq(t.adminSessions.tokenHash, tokenHash),
      );
    },
    async deleteSession(tokenHash) {
      return (await db.delete('adminSessions', eq(t.adminSessions.tokenHash, tokenHash))) > 0;
    },
    async deleteUserSessions(userId, except = false) {
      return db.delete(
        'adminSessions',
        except ? ne(t.adminSessions.userId, userId) : eq(t.adminSessions.userId, userId),
      );
    },
    async purgeSessions(now, limit) {
      return db.delete('adminSessions', lt(t.adminSessions.expiresAt, now), {
        limit,
        orderBy: asc(t.adminSessions.expiresAt),
      });
    },

    async addLoginAttempt(userName, at, ip, since) {
      const name = userName.slice(0, USER_NAME_MAX);
      const id = await db.insertIgnore('adminLoginFailures', {
        userName: name,
        at,
        ip: ip?.slice(0, 64) ?? null,
      });
      if (id === undefined) throw new Error('a login attempt was not stored');
      const rank = await db.count(
        'adminLoginFailures',
        and(
          eq(t.adminLoginFailures.userName, name),
          gte(t.adminLoginFailures.at, since),
          lte(t.adminLoginFailures.id, id),
        ),
      );
      return { id, rank };
    },
    async deleteLoginAttempt(id) {
      await db.delete('adminLoginFailures', eq(t.adminLoginFailures.id, id));
    },
    async countLoginFailures(userName, since) {
      const name = userName.slice(0, USER_NAME_MAX);
      return db.count(
        'adminLoginFailures',
        and(eq(t.adminLoginFailures.userName, name), gte(t.adminLoginFailures.at, since)),
      );
    },
    async purgeLoginFailures(before, limit) {
      return db.delete('adminLoginFailures', lt(t.adminLoginFailures.at, before), {
        limit,
        orderBy: asc(t.adminLoginFailures.at),
      });
    },

    async addAudit(e) {
      await db.insert('adminAudit', [
        {
          at: e.at,
          actorId: e.actor?.id ?? null,
          actorName: e.actor?.name ?? null,
          action: e.action.slice(0, 64),
          target: e.target?.slice(0, 191) ?? null,
          ip: e.ip?.slice(0, 64) ?? null,
          detail: e.detail === undefined ? null : JSON.stringify(e.detail),
        },
      ]);
    },
    async listAudit(limit) {
      const rows = await db.select('adminAudit', undefined, {
        orderBy: [desc(t.adminAudit.at), desc(t.adminAudit.id)],
        limit,
      });
      return rows.map(auditRecord);
    },

    async createApiKey(key) {
      const id = await db.insertIgnore('apiKeys', key);
      if (id === undefined) throw new Error('an API key with this hash exists');
      return id;
    },
    async listApiKeys() {
      const rows = await db.select('apiKeys', undefined, { orderBy: desc(t.apiKeys.id) });
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        createdBy: r.createdBy,
        createdAt: r.createdAt,
        lastUsedAt: r.lastUsedAt ?? undefined,
        revokedAt: r.revokedAt ?? undefined,
      }));
    },
    async apiKeyByHash(keyHash) {
      const row = await db.first('apiKeys', eq(t.apiKeys.keyHash, keyHash), {
        columns: ['id', 'revokedAt'],
      });
      return row === undefined ? undefined : { id: row.id, revokedAt: row.revokedAt ?? undefined };
    },
    async revokeApiKey(id, now) {
      const exists = await db.first('apiKeys', eq(t.apiKeys.id, id), {
        columns: ['id', 'revokedAt'],
      });
      if (exists === undefined) return false;
      if (exists.revokedAt === null)
        await db.update('apiKeys', { revokedAt: now }, eq(t.apiKeys.id, id));
      return true;
    },
    async touchApiKey(id, now) {
      await db.update('apiKeys', { lastUsedAt: now }, eq(t.apiKeys.id, id));
    },
  };
}

function userRecord(row: Row<'adminUsers'>): AdminUserRecord {
  return {
    id: row.id,
    name: row.name,
    passwordHash: row.passwordHash,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function auditRecord(row: Row<'adminAudit'>): AuditRecord {
  let detail: Record<string, unknown> | null = null;
  if (row.detail !== null) {
    try {
      const parsed: unknown = JSON.parse(row.detail);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        detail = parsed as Record<string, unknown>;
    } catch {
      detail = null;
    }
  }
  return {
    id: row.id,
    at: row.at,
    actor:
      row.actorId === null || row.actorName === null
        ? null
        : { id: row.actorId, name: row.actorName },
    action: row.action,
    target: row.target,
    ip: row.ip,
    detail,
  };
}
