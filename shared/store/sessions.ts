import { and, desc, eq } from 'drizzle-orm';
import type { Codec } from './codec';
import type { Db, Row } from './dialect';
import type { Unreadable } from './types';

/** The session key held for one Mini Program user, opened; or why it does not open. */
export type HeldSessionKey = { sessionKey: string; updatedAt: number } | { unreadable: Unreadable };

/** Mini Program users' session keys (sealed at rest), one per (app, openid). */
export interface LoginSessionsRepo {
  /** Keeps `sessionKey` for (app, openid), replacing the one held before. */
  save(app: string, openid: string, sessionKey: string, now: number): Promise<void>;
  /** The key held for (app, openid), or undefined when the user never logged in. */
  get(app: string, openid: string): Promise<HeldSessionKey | undefined>;
}

/** A key that signs the hub's session JWTs; the private JWK opened, or why not. */
export interface SigningKeyRecord {
  generation: number;
  kid: string;
  alg: string;
  /** The public JWK as published (`kty`, `crv`, `x`, `y`, `kid`, `alg`, `use`). */
  publicJwk: Record<string, unknown>;
  privateKey: { jwk: string } | { unreadable: Unreadable };
  signsFrom: number;
  signsUntil: number;
  createdAt: number;
}

export interface NewSigningKey {
  generation: number;
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  /** The private JWK as JSON text; sealed before it is stored. */
  privateJwk: string;
  signsFrom: number;
  signsUntil: number;
  createdAt: number;
}

/** The signing keys, newest generation first. */
export interface SigningKeysRepo {
  /** The newest `limit` generations, newest first. */
  recent(limit: number): Promise<SigningKeyRecord[]>;
  /** Inserts a key unless its generation exists already: false when another instance won. */
  insert(key: NewSigningKey): Promise<boolean>;
}

const SESSION_KEY = 'login_sessions.session_key';
const PRIVATE_KEY = 'signing_keys.private_key';

export function loginSessionsRepo(db: Db, codec: Codec): LoginSessionsRepo {
  const { loginSessions: s } = db.t;
  return {
    async save(app, openid, sessionKey, now) {
      const sealed = codec.seal(sessionKey, SESSION_KEY, `${app}/${openid}`);
      await db.upsert(
        'loginSessions',
        { app, openid, sessionKey: sealed, createdAt: now, updatedAt: now },
        { target: ['app', 'openid'], set: { sessionKey: sealed, updatedAt: now } },
      );
    },
    async get(app, openid) {
      const row = await db.first('loginSessions', and(eq(s.app, app), eq(s.openid, openid)), {
        columns: ['sessionKey', 'updatedAt'],
      });
      if (row === undefined) return undefined;
      const opened = codec.open(row.sessionKey, SESSION_KEY, `${app}/${openid}`);
      return 'value' in opened
        ? { sessionKey: opened.value, updatedAt: row.updatedAt }
        : { unreadable: opened };
    },
  };
}

export function signingKeysRepo(db: Db, codec: Codec): SigningKeysRepo {
  const { signingKeys: k } = db.t;
  const record = (row: Row<'signingKeys'>): SigningKeyRecord => {
    const opened = codec.open(row.privateKey, PRIVATE_KEY, row.kid);
    return {
      generation: row.generation,
      kid: row.kid,
      alg: row.alg,
      publicJwk: JSON.parse(row.publicJwk) as Record<string, unknown>,
      privateKey: 'value' in opened ? { jwk: opened.value } : { unreadable: opened },
      signsFrom: row.signsFrom,
      signsUntil: row.signsUntil,
      createdAt: row.createdAt,
    };
  };
  return {
    async recent(limit) {
      const rows = await db.select('signingKeys', undefined, {
        orderBy: desc(k.generation),
        limit,
      });
      return rows.map(record);
    },
    async insert(key) {
      const id = await db.insertIgnore('signingKeys', {
        generation: key.generation,
        kid: key.kid,
        alg: key.alg,
        publicJwk: JSON.stringify(key.publicJwk),
        privateKey: codec.seal(key.privateJwk, PRIVATE_KEY, key.kid),
        signsFrom: key.signsFrom,
        signsUntil: key.signsUntil,
        createdAt: key.createdAt,
      });
      return id !== undefined;
    },
  };
}
