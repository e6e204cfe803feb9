import type { CryptoKey } from 'jose';
import type { Clock } from '../clock';
import type { SigningKeyRecord, Store } from '../store';
import { unreadableError } from '../store/unreadable';
import type { SessionSettings } from './settings';

/** The one algorithm the hub signs with and verifiers accept (pinned: RFC 8725 §3.1). */
export const SESSION_ALG = 'ES256';
/** How long an instance trusts what it read of the key table. */
const READ_CACHE_MS = 60_000;
/** Generations read: the signing one, the next, and those whose tokens may still be live. */
const RECENT_GENERATIONS = 16;

export interface SigningKey {
  kid: string;
  key: CryptoKey;
}

/** The keys that sign session JWTs, shared by every instance through the database. */
export interface SigningKeys {
  /** The key that signs now; generated on first use, rotated as {@link SessionSettings} says. */
  current(): Promise<SigningKey>;
  /**
   * The public keys a verifier needs (a JWK set): every key a live token may carry, and the next
   * key, published before it signs anything.
   */
  jwks(): Promise<{ keys: Record<string, unknown>[] }>;
}

/**
 * Key generations in the `signing_keys` table: generation n+1 signs from the end of generation
 * n. The first instance that needs a generation makes it; its insert is unique on the
 * generation, so instances that race agree on the winner's key. The next generation is made up to
 * a day (or half the rotation) ahead, so verifiers that cache the JWK set see it before any token
 * carries its `kid`; a retired key stays published until every token it signed has expired.
 */
export function createSigningKeys(
  store: Store,
  clock: Clock,
  settings: SessionSettings,
): SigningKeys {
  let cached: { rows: SigningKeyRecord[]; until: number } | undefined;
  const imported = new Map<string, CryptoKey>();
  const aheadMs = Math.min(86_400_000, settings.rotationMs / 2);

  const read = async (now: number) => {
    if (cached !== undefined && now < cached.until) return cached.rows;
    const rows = await store.signingKeys.recent(RECENT_GENERATIONS);
    cached = { rows, until: now + READ_CACHE_MS };
    return rows;
  };

  // Another instance may win the generation: its key is then the one, re-read below.
  const create = async (generation: number, signsFrom: number, now: number) => {
    const jose = await import('./jose');
    const pair = await jose.generateKeyPair(SESSION_ALG, { extractable: true });
    const publicJwk = await jose.exportJWK(pair.publicKey);
    const kid = await jose.calculateJwkThumbprint(publicJwk);
    const privateJwk = JSON.stringify(await jose.exportJWK(pair.privateKey));
    await store.signingKeys.insert({
      generation,
      kid,
      alg: SESSION_ALG,
      publicJwk: { ...publicJwk, kid, alg: SESSION_ALG, use: 'sig' },
      privateJwk,
      signsFrom,
      signsUntil: signsFrom + settings.rotationMs,
      createdAt: now,
    });
    cached = undefined;
  };

  /** The newest generations, with one that signs at `now` and its successor when due. */
  const ensure = async (now: number) => {
    let rows = await read(now);
    const latest = rows[0];
    if (latest === undefined || latest.signsUntil <= now) {
      await create((latest?.generation ?? 0) + 1, now, now);
      rows = await read(now);
    }
    const newest = rows[0];
    if (newest !== undefined && newest.signsFrom <= now && newest.signsUntil - now <= aheadMs) {
      await create(newest.generation + 1, newest.signsUntil, now);
      rows = await read(now);
    }
    return rows;
  };

  return {
    async current() {
      const now = clock.now();
      const rows = await ensure(now);
      // Newest first; a key whose start another instance's clock put a moment ahead still signs.
      const row =
        rows.find((r) => r.signsFrom <= now && now < r.signsUntil) ??
        rows.find((r) => now < r.signsUntil);
      if (row === undefined) throw new Error('no session signing key could be made');
      if ('unreadable' in row.privateKey) throw unreadableError(row.privateKey.unreadable);
      let key = imported.get(row.kid);
      if (key === undefined) {
        const jose = await import('./jose');
        const k = await jose.importJWK(JSON.parse(row.privateKey.jwk) as object, SESSION_ALG);
        if (k instanceof Uint8Array) throw new Error('a session signing key is not an EC key');
        key = k;
        imported.set(row.kid, key);
      }
      return { kid: row.kid, key };
    },
    async jwks() {
      const now = clock.now();
      const rows = await ensure(now);
      const liveUntil = (r: SigningKeyRecord) => r.signsUntil + settings.ttlSeconds * 1000;
      return { keys: rows.filter((r) => now < liveUntil(r)).map((r) => r.publicJwk) };
    },
  };
}
