import { and, eq, isNotNull, isNull, lte, or } from 'drizzle-orm';
import type { Db } from './dialect';

/** One stored mini program code: which appid, which limited kind, which parameters (hashed). */
export interface WxacodeKey {
  appId: string;
  kind: string;
  paramsHash: string;
}

/** A stored code's row: the image once generated, else the lease of the generation under way. */
export interface WxacodeRecord {
  image?: Uint8Array<ArrayBuffer>;
  contentType?: string;
  leaseOwner?: string;
  leaseUntil?: number;
}

/**
 * Mini program codes of the kinds with a lifetime quota (shared/wechat/wxacode.ts): the image is
 * stored once, and a generation is held by a lease on its row so that concurrent identical
 * requests, on any instance, make one upstream call.
 */
export interface WxacodesRepo {
  get(k: WxacodeKey): Promise<WxacodeRecord | undefined>;
  /**
   * Takes the lease to generate `k` for `leaseMs`: creates the row, or takes over a row without
   * an image whose lease is free or expired. False when the image exists or another holds it.
   */
  claim(k: WxacodeKey, owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Stores the image under `owner`'s lease; false when the lease was lost (nothing stored). */
  save(
    k: WxacodeKey,
    owner: string,
    code: { image: Uint8Array; contentType: string },
    now: number,
  ): Promise<boolean>;
  /** Gives up `owner`'s lease without an image (WeChat refused): the next request tries again. */
  release(k: WxacodeKey, owner: string): Promise<void>;
  /** How many codes of the limited kinds are stored for `appId`: the quota this hub spent. */
  countGenerated(appId: string): Promise<number>;
}

/** The mini program codes table (shared/db/tables/wxacodes.ts). */
export function wxacodesRepo(db: Db): WxacodesRepo {
  const { wxacodes: w } = db.t;
  const byKey = (k: WxacodeKey) =>
    and(eq(w.appId, k.appId), eq(w.kind, k.kind), eq(w.paramsHash, k.paramsHash));
  return {
    async get(k) {
      const row = await db.first('wxacodes', byKey(k), {
        columns: ['image', 'contentType', 'leaseOwner', 'leaseUntil'],
      });
      if (row === undefined) return undefined;
      return {
        ...(row.image === null ? {} : { image: new Uint8Array(row.image) }),
        ...(row.contentType === null ? {} : { contentType: row.contentType }),
        ...(row.leaseOwner === null ? {} : { leaseOwner: row.leaseOwner }),
        ...(row.leaseUntil === null ? {} : { leaseUntil: row.leaseUntil }),
      };
    },
    async claim(k, owner, now, leaseMs) {
      const lease = { leaseOwner: owner, leaseUntil: now + leaseMs };
      const id = await db.insertIgnore('wxacodes', { ...k, ...lease, createdAt: now });
      if (id !== undefined) return true;
      const free = or(isNull(w.leaseOwner), isNull(w.leaseUntil), lte(w.leaseUntil, now));
      return (await db.update('wxacodes', lease, and(byKey(k), isNull(w.image), free))) > 0;
    },
    async save(k, owner, code, now) {
      const set = {
        image: Buffer.from(code.image),
        contentType: code.contentType,
        generatedAt: now,
        leaseOwner: null,
        leaseUntil: null,
      };
      const mine = and(byKey(k), eq(w.leaseOwner, owner), isNull(w.image));
      return (await db.update('wxacodes', set, mine)) > 0;
    },
    async release(k, owner) {
      const mine = and(byKey(k), eq(w.leaseOwner, owner), isNull(w.image));
      await db.update('wxacodes', { leaseOwner: null, leaseUntil: null }, mine);
    },
    countGenerated(appId) {
      return db.count('wxacodes', and(eq(w.appId, appId), isNotNull(w.image)));
    },
  };
}
