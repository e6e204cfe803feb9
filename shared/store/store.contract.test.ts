import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../config';
import { createSecretBox, keyIdOf } from '../crypto/secret-box';
import type { DatabaseHandle } from '../db/client';
import { createStore } from './index';
import type { OpenedStore, TestTarget } from './testing';
import { openTestStore, TEST_SECRET_KEY, testTargets, uniqueName } from './testing';
import { type NewCallbackMessage, SignatureReplayError, type Store } from './types';

const NOW = 1_800_000_000_000;

function app(name: string, over: Partial<AppConfig> = {}): AppConfig {
  return {
    name,
    kind: 'official',
    appId: `wx${name.replace(/[^a-z0-9]/g, '').slice(-12)}`,
    appSecret: 'app-secret-value-1234567890',
    token: 'CallbackToken1',
    encodingAesKey: 'A'.repeat(43),
    tokenMode: 'stable',
    forward: [{ url: 'http://127.0.0.1:9/hook', match: { MsgType: 'event' } }],
    ...over,
  };
}

function message(appName: string, dedupKey: string): NewCallbackMessage {
  return {
    app: appName,
    dedupKey,
    receivedAt: NOW,
    format: 'xml',
    encrypted: false,
    raw: '<xml><MsgType>text</MsgType></xml>',
    parsed: { MsgType: 'text', Content: '你好 👋' },
    msgType: 'text',
    fromUser: 'openid-1',
    toUser: 'gh_1',
    createTime: 1_700_000_000,
    msgId: dedupKey,
  };
}

/** Reads a whole raw table as text, bypassing the repositories. */
async function rawTableText(h: DatabaseHandle, table: string): Promise<string> {
  if (h.dialect === 'mysql') {
    const [rows] = await h.pool.query(`SELECT * FROM \`${table}\``);
    return JSON.stringify(rows);
  }
  return JSON.stringify(h.db.all(sql.raw(`SELECT * FROM "${table}"`)));
}

describe.each(testTargets())('store contract on $name', (target: TestTarget) => {
  let opened: OpenedStore;
  let store: Store;
  beforeAll(async () => {
    opened = await openTestStore(target);
    store = opened.store;
  });
  afterAll(async () => {
    await store.close();
  });

  describe('apps', () => {
    it('upserts, reads back with secrets opened, and lists', async () => {
      const name = uniqueName('app');
      await store.apps.upsert(app(name), 'file', NOW);
      const got = await store.apps.get(name);
      expect(got).toMatchObject({
        name,
        kind: 'official',
        appSecret: 'app-secret-value-1234567890',
        token: 'CallbackToken1',
        encodingAesKey: 'A'.repeat(43),
        tokenMode: 'stable',
        source: 'file',
        enabled: true,
        createdAt: NOW,
      });
      expect(got?.forward).toEqual([
        { url: 'http://127.0.0.1:9/hook', match: { MsgType: 'event' } },
      ]);
      await store.apps.upsert(
        app(name, { tokenMode: 'classic', appSecret: undefined }),
        'file',
        NOW + 5,
      );
      const updated = await store.apps.get(name);
      expect(updated).toMatchObject({
        tokenMode: 'classic',
        appSecret: undefined,
        createdAt: NOW,
        updatedAt: NOW + 5,
      });
      const names = (await store.apps.list()).map((a) => a.name);
      expect(names).toContain(name);
    });

    it('stores enabled: false as disabled, keeping the data, and re-enables on an upsert without it', async () => {
      const name = uniqueName('off');
      await store.apps.upsert(app(name), 'file', NOW);
      await store.apps.upsert(app(name, { enabled: false }), 'file', NOW + 1);
      expect(await store.apps.get(name)).toMatchObject({
        enabled: false,
        appSecret: 'app-secret-value-1234567890',
        updatedAt: NOW + 1,
      });
      expect((await store.apps.list({ enabled: true })).map((a) => a.name)).not.toContain(name);
      expect((await store.apps.list({ enabled: false })).map((a) => a.name)).toContain(name);
      await store.apps.upsert(app(name), 'file', NOW + 2);
      expect(await store.apps.get(name)).toMatchObject({ enabled: true });
    });

    it('keeps secrets unreadable in the raw table', async () => {
      const name = uniqueName('raw');
      await store.apps.upsert(app(name, { appSecret: 'PLAINTEXT-SECRET-zz91' }), 'file', NOW);
      const text = await rawTableText(opened.handle, 'apps');
      expect(text).toContain(name);
      expect(text).not.toContain('PLAINTEXT-SECRET-zz91');
      expect(text).not.toContain('CallbackToken1');
      expect(text).not.toContain('A'.repeat(43));
    });
  });

  describe('merchants', () => {
    it('upserts with the API v3 key and private key sealed', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const name = uniqueName('mch');
      const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await store.merchants.upsert(
        {
          name,
          mchId: '1900000109',
          apiV3Key: 'V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12',
          serialNo: 'ABCDEF0123456789',
          privateKey: privatePem,
          publicKeyId: 'PUB_KEY_ID_0001',
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          platformCertificates: [],
          forward: [{ url: 'http://127.0.0.1:9/pay' }],
        },
        'file',
        NOW,
      );
      const got = await store.merchants.get(name);
      expect(got).toMatchObject({
        name,
        apiV3Key: 'V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12',
        privateKey: privatePem,
      });
      const text = await rawTableText(opened.handle, 'merchants');
      expect(text).not.toContain('V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12');
      expect(text).not.toContain(privatePem.split('\n')[1]);
    });
  });

  describe('credentials and the lease', () => {
    it('gives the lease to exactly one of 20 concurrent claimers on separate connections', async () => {
      const key = { owner: `app:${uniqueName('lease')}`, kind: 'access_token' };
      await store.credentials.ensure(key, NOW);
      const others = await Promise.all(
        Array.from({ length: 20 }, () => openTestStore(target, { poolSize: 1 })),
      );
      try {
        const results = await Promise.all(
          others.map((o, i) => o.store.credentials.claimLease(key, `claimer-${i}`, NOW, 30_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.credentials.get(key))?.leaseOwner).toBe(`claimer-${winner}`);
      } finally {
        await Promise.all(others.map((o) => o.store.close()));
      }
    });

    it('lets another claimer take over an expired lease, not a live one', async () => {
      const key = { owner: `app:${uniqueName('exp')}`, kind: 'access_token' };
      await store.credentials.ensure(key, NOW);
      expect(await store.credentials.claimLease(key, 'a', NOW, 10_000)).toBe(true);
      expect(await store.credentials.claimLease(key, 'b', NOW + 9_999, 10_000)).toBe(false);
      expect(await store.credentials.claimLease(key, 'b', NOW + 10_000, 10_000)).toBe(true);
      expect((await store.credentials.get(key))?.leaseOwner).toBe('b');
    });

    it('extends a lease only for its owner; a claimer waits for the new end', async () => {
      const key = { owner: `app:${uniqueName('ext')}`, kind: 'authorizer_sync' };
      await store.credentials.ensure(key, NOW);
      expect(await store.credentials.claimLease(key, 'a', NOW, 10_000)).toBe(true);
      expect(await store.credentials.extendLease(key, 'b', NOW + 5_000, 10_000)).toBe(false);
      expect(await store.credentials.extendLease(key, 'a', NOW + 5_000, 10_000)).toBe(true);
      expect(await store.credentials.claimLease(key, 'b', NOW + 10_000, 10_000)).toBe(false);
      expect(await store.credentials.claimLease(key, 'b', NOW + 15_000, 10_000)).toBe(true);
      expect(await store.credentials.extendLease(key, 'a', NOW + 15_000, 10_000)).toBe(false);
    });

    it('reads the rows of several owners and kinds in one call, values opened', async () => {
      const owners = [`authorizer:${uniqueName('m')}:a`, `authorizer:${uniqueName('m')}:b`];
      for (const owner of owners) {
        for (const kind of ['authorizer_status', 'authorizer_refresh_token', 'other']) {
          await store.credentials.put(
            { owner, kind },
            { value: `${kind}-of-${owner}`, expiresAt: NOW },
            NOW,
          );
        }
      }
      const got = await store.credentials.getMany(
        [...owners, 'authorizer:none:x'],
        ['authorizer_status', 'authorizer_refresh_token'],
      );
      expect(got.map((r) => r.value).sort()).toEqual(
        owners
          .flatMap((o) => [`authorizer_refresh_token-of-${o}`, `authorizer_status-of-${o}`])
          .sort(),
      );
      expect(await store.credentials.getMany([], ['other'])).toEqual([]);
    });

    it('dropValue clears the value and the lease: the refresh that held it saves nothing', async () => {
      const key = { owner: `authorizer:${uniqueName('drop')}:wwcorp`, kind: 'corp_access_token' };
      await store.credentials.put(key, { value: 'tok-old', expiresAt: NOW + 60_000 }, NOW);
      expect(await store.credentials.claimLease(key, 'refresher', NOW, 10_000)).toBe(true);
      await store.credentials.dropValue(key, NOW + 1);
      const dropped = await store.credentials.get(key);
      expect(dropped?.value).toBeUndefined();
      expect(dropped?.leaseOwner).toBeUndefined();
      const write = { value: 'tok-new', expiresAt: NOW + 7_200_000 };
      expect(await store.credentials.saveValue(key, 'refresher', write, NOW + 2)).toBe(false);
      expect((await store.credentials.get(key))?.value).toBeUndefined();
      // clearValue keeps the lease: that refresh would still save.
      const kept = { owner: `app:${uniqueName('clear')}`, kind: 'jsapi_ticket' };
      await store.credentials.put(kept, { value: 't', expiresAt: NOW + 60_000 }, NOW);
      await store.credentials.claimLease(kept, 'refresher', NOW, 10_000);
      await store.credentials.clearValue(kept, NOW + 1);
      expect(await store.credentials.saveValue(kept, 'refresher', write, NOW + 2)).toBe(true);
    });

    it('releases and saves only for the lease owner', async () => {
      const key = { owner: `app:${uniqueName('rel')}`, kind: 'access_token' };
      await store.credentials.ensure(key, NOW);
      await store.credentials.claimLease(key, 'owner-1', NOW, 10_000);
      expect(await store.credentials.releaseLease(key, 'intruder')).toBe(false);
      expect(
        await store.credentials.saveValue(
          key,
          'intruder',
          { value: 'tok-x', expiresAt: NOW + 7_200_000 },
          NOW,
        ),
      ).toBe(false);
      expect((await store.credentials.get(key))?.value).toBeUndefined();
      expect(
        await store.credentials.saveValue(
          key,
          'owner-1',
          { value: 'tok-1', expiresAt: NOW + 7_200_000 },
          NOW,
        ),
      ).toBe(true);
      const saved = await store.credentials.get(key);
      expect(saved).toMatchObject({
        value: 'tok-1',
        version: 1,
        leaseOwner: undefined,
        expiresAt: NOW + 7_200_000,
        refreshedAt: NOW,
      });
      expect(await store.credentials.releaseLease(key, 'owner-1')).toBe(false);
      await store.credentials.claimLease(key, 'owner-2', NOW + 1, 10_000);
      expect(await store.credentials.releaseLease(key, 'owner-2')).toBe(true);
      expect((await store.credentials.get(key))?.leaseOwner).toBeUndefined();
    });

    it('records errors with backoff and lists due credentials through the expiry window', async () => {
      const owner = `app:${uniqueName('due')}`;
      const soon = { owner, kind: 'access_token' };
      const later = { owner, kind: 'jsapi_ticket' };
      const empty = { owner, kind: 'wx_card_ticket' };
      for (const k of [soon, later, empty]) await store.credentials.ensure(k, NOW);
      await store.credentials.claimLease(soon, 'w', NOW, 1000);
      await store.credentials.saveValue(soon, 'w', { value: 's', expiresAt: NOW + 60_000 }, NOW);
      await store.credentials.claimLease(later, 'w', NOW, 1000);
      await store.credentials.saveValue(
        later,
        'w',
        { value: 'l', expiresAt: NOW + 3_600_000 },
        NOW,
      );
      const mine = async (before: number, now: number) =>
        (await store.credentials.listDueKeys({ before, now, limit: 10_000 }))
          .filter((c) => c.owner === owner)
          .map((c) => c.kind)
          .sort();
      expect(await mine(NOW + 300_000, NOW)).toEqual(['access_token', 'wx_card_ticket']);

      await store.credentials.claimLease(empty, 'w', NOW, 1000);
      expect(
        await store.credentials.recordError(
          empty,
          'w',
          { message: 'errcode 40164: invalid ip', nextAttemptAt: NOW + 120_000 },
          NOW,
        ),
      ).toBe(true);
      expect(await store.credentials.get(empty)).toMatchObject({
        failures: 1,
        lastError: 'errcode 40164: invalid ip',
        leaseOwner: undefined,
      });
      expect(await mine(NOW + 300_000, NOW + 1)).toEqual(['access_token']);
      expect(await mine(NOW + 300_000, NOW + 120_000)).toEqual(['access_token', 'wx_card_ticket']);

      await store.credentials.clearValue(later, NOW);
      expect(await store.credentials.get(later)).toMatchObject({ value: undefined, version: 2 });
    });

    it('purgeKindBefore deletes old rows of one kind whose lease is free, and nothing else', async () => {
      const kind = `spent_${uniqueName('k').replaceAll('-', '_')}`.slice(0, 48);
      const old = { owner: `authcode:${uniqueName('old')}`, kind };
      const leased = { owner: `authcode:${uniqueName('leased')}`, kind };
      const fresh = { owner: `authcode:${uniqueName('fresh')}`, kind };
      const other = { owner: old.owner, kind: `${kind.slice(0, 40)}_other` };
      const elsewhere = { owner: `app:${uniqueName('app')}`, kind };
      await store.credentials.ensure(old, NOW - 10_000);
      await store.credentials.ensure(leased, NOW - 10_000);
      await store.credentials.claimLease(leased, 'w', NOW - 10_000, 20_000);
      await store.credentials.ensure(fresh, NOW);
      await store.credentials.ensure(other, NOW - 10_000);
      await store.credentials.ensure(elsewhere, NOW - 10_000);
      expect(await store.credentials.purgeKindBefore('authcode:', kind, NOW - 5_000, 100)).toBe(1);
      expect(await store.credentials.get(old)).toBeUndefined();
      expect(await store.credentials.get(leased)).toBeDefined();
      expect(await store.credentials.get(fresh)).toBeDefined();
      expect(await store.credentials.get(other)).toBeDefined();
      expect(await store.credentials.get(elsewhere)).toBeDefined();
      // Once its lease is over, the leased one goes too.
      expect(await store.credentials.purgeKindBefore('authcode:', kind, NOW + 11_000, 100)).toBe(2);
    });

    it('removeLeased deletes a row only for the holder of its lease', async () => {
      const key = { owner: `authcode:${uniqueName('code')}:abc`, kind: 'authorization_code' };
      await store.credentials.ensure(key, NOW);
      expect(await store.credentials.removeLeased(key, 'w')).toBe(false);
      expect(await store.credentials.claimLease(key, 'w', NOW, 1000)).toBe(true);
      expect(await store.credentials.removeLeased(key, 'other')).toBe(false);
      expect(await store.credentials.get(key)).toBeDefined();
      expect(await store.credentials.removeLeased(key, 'w')).toBe(true);
      expect(await store.credentials.get(key)).toBeUndefined();
    });

    it('listDueKeys pages through due rows by cursor, without values, skipping unset rows of a prefix', async () => {
      const name = uniqueName('keys');
      const app = { owner: `app:${name}`, kind: 'access_token' };
      const a = { owner: `authorizer:${name}:a`, kind: 'authorizer_access_token' };
      const b = { owner: `authorizer:${name}:b`, kind: 'authorizer_access_token' };
      const revoked = { owner: `authorizer:${name}:c`, kind: 'authorizer_access_token' };
      const later = { owner: `authorizer:${name}:d`, kind: 'authorizer_access_token' };
      await store.credentials.ensure(app, NOW);
      await store.credentials.put(a, { value: 'ta', expiresAt: NOW + 1000 }, NOW);
      await store.credentials.put(b, { value: 'tb', expiresAt: NOW + 1000 }, NOW);
      await store.credentials.put(revoked, { value: 'tc', expiresAt: NOW + 500 }, NOW);
      await store.credentials.clearValue(revoked, NOW);
      await store.credentials.put(later, { value: 'td', expiresAt: NOW + 3_600_000 }, NOW);
      const pages: Awaited<ReturnType<typeof store.credentials.listDueKeys>>[] = [];
      let after: { expiresAt: number | undefined; id: number } | undefined;
      for (;;) {
        const page = await store.credentials.listDueKeys({
          before: NOW + 5000,
          now: NOW,
          limit: 2,
          ...(after === undefined ? {} : { after }),
          unsetNeverDue: 'authorizer:',
        });
        pages.push(page);
        const last = page.at(-1);
        if (page.length < 2 || last === undefined) break;
        after = { expiresAt: last.expiresAt, id: last.id };
      }
      const all = pages.flat();
      expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
      expect(all.every((r) => !('value' in r))).toBe(true);
      const mine = all.filter((r) => r.owner.includes(name));
      expect(mine.map((r) => r.owner)).toEqual([app.owner, a.owner, b.owner]);
      expect(mine.map((r) => r.expiresAt)).toEqual([undefined, NOW + 1000, NOW + 1000]);
      // Without the prefix the revoked row's cleared value is due like any unset row.
      const unfiltered = await store.credentials.listDueKeys({
        before: NOW,
        now: NOW,
        limit: 10_000,
      });
      expect(unfiltered.map((r) => r.owner)).toContain(revoked.owner);
    });

    it('claimDueLeases takes free rows still due in one go; getManyOfKind reads a kind for many owners', async () => {
      const name = uniqueName('claim');
      const kind = 'authorizer_access_token';
      const owners = ['a', 'b', 'c', 'd'].map((x) => `authorizer:${name}:${x}`);
      const [free, leased, fresh, missing] = owners as [string, string, string, string];
      await store.credentials.put(
        { owner: free, kind },
        { value: 'ta', expiresAt: NOW + 1000 },
        NOW,
      );
      await store.credentials.put(
        { owner: leased, kind },
        { value: 'tb', expiresAt: NOW + 1000 },
        NOW,
      );
      await store.credentials.claimLease({ owner: leased, kind }, 'other', NOW, 60_000);
      await store.credentials.put(
        { owner: fresh, kind },
        { value: 'tc', expiresAt: NOW + 9e6 },
        NOW,
      );
      const taken = await store.credentials.claimDueLeases(
        kind,
        owners,
        'me',
        NOW,
        60_000,
        NOW + 5000,
      );
      expect(taken).toEqual([{ owner: free, failures: 0 }]);
      expect(
        await store.credentials.claimDueLeases(kind, owners, 'me2', NOW, 60_000, NOW + 5000),
      ).toEqual([]);
      const got = await store.credentials.getManyOfKind(kind, owners);
      expect([...got.keys()].sort()).toEqual([free, leased, fresh].sort());
      expect(got.get(free)?.value).toBe('ta');
      expect(got.has(missing)).toBe(false);
      // One transaction: a failure inside leaves nothing written.
      await expect(
        store.credentials.transaction(async (repo) => {
          await repo.saveValue(
            { owner: free, kind },
            'me',
            { value: 'new', expiresAt: NOW + 7e6 },
            NOW,
          );
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await store.credentials.get({ owner: free, kind }))?.value).toBe('ta');
      await store.credentials.transaction(async (repo) => {
        await repo.saveValue(
          { owner: free, kind },
          'me',
          { value: 'new', expiresAt: NOW + 7e6 },
          NOW,
        );
      });
      expect(await store.credentials.get({ owner: free, kind })).toMatchObject({
        value: 'new',
        leaseOwner: undefined,
      });
    });

    it('putIfNewer: the latest expiry wins in any order, concurrent writers included', async () => {
      const key = { owner: `app:${uniqueName('newer')}`, kind: 'component_verify_ticket' };
      const put = (value: string, expiresAt: number) =>
        store.credentials.putIfNewer(key, { value, expiresAt }, NOW);
      expect(await put('t-2', NOW + 2000)).toBe(true);
      expect(await put('t-1', NOW + 1000)).toBe(false);
      expect(await put('t-2-again', NOW + 2000)).toBe(false);
      expect(await store.credentials.get(key)).toMatchObject({
        value: 't-2',
        expiresAt: NOW + 2000,
      });
      const written = await Promise.all(
        [5, 3, 9, 4, 7].map((n) => put(`TICKET-PLAIN-${n}`, NOW + n * 1000)),
      );
      expect(written.some(Boolean)).toBe(true);
      expect(await store.credentials.get(key)).toMatchObject({
        value: 'TICKET-PLAIN-9',
        expiresAt: NOW + 9000,
      });
      expect(await rawTableText(opened.handle, 'credentials')).not.toContain('TICKET-PLAIN-9');
    });

    it('keeps credential values unreadable in the raw table', async () => {
      const key = { owner: `app:${uniqueName('rawc')}`, kind: 'authorizer_refresh_token' };
      await store.credentials.ensure(key, NOW);
      await store.credentials.claimLease(key, 'w', NOW, 1000);
      await store.credentials.saveValue(
        key,
        'w',
        { value: 'REFRESH-TOKEN-PLAINTEXT-77', expiresAt: NOW + 1 },
        NOW,
      );
      expect(await rawTableText(opened.handle, 'credentials')).not.toContain(
        'REFRESH-TOKEN-PLAINTEXT-77',
      );
    });
  });

  describe('callback messages and the outbox', () => {
    it('stores a message once: a duplicate dedup key is absorbed without error', async () => {
      const a = uniqueName('msg');
      const first = await store.messages.insert(message(a, 'm1'), [], NOW);
      expect(first.inserted).toBe(true);
      expect(first.message).toMatchObject({
        app: a,
        dedupKey: 'm1',
        parsed: { Content: '你好 👋' },
        reply: undefined,
      });
      const again = await Promise.all(
        [1, 2, 3].map(() => store.messages.insert(message(a, 'm1'), [], NOW + 1)),
      );
      expect(again.map((r) => r.inserted)).toEqual([false, false, false]);
      expect(again.every((r) => r.message.id === first.message.id)).toBe(true);
      expect(await store.messages.count(a)).toBe(1);
      await store.messages.finishReply(first.message.id, '<xml>reply</xml>');
      expect((await store.messages.get(a, 'm1'))?.reply).toBe('<xml>reply</xml>');
    });

    it('remembers a push signature with its message: same body goes on, another body is a replay', async () => {
      const a = uniqueName('sig');
      const sig = { signature: 'f'.repeat(40), bodyHash: 'a'.repeat(64), expiresAt: NOW + 300_000 };
      const first = await store.messages.insert(message(a, 's1'), [], NOW, sig);
      expect(first.inserted).toBe(true);
      // WeChat's retry: same signature, same body.
      const retry = await store.messages.insert(message(a, 's1'), [], NOW, sig);
      expect(retry).toMatchObject({ inserted: false, message: { id: first.message.id } });
      // Another body under the same signature: refused, and its message is not stored.
      await expect(
        store.messages.insert(message(a, 's2'), [], NOW, { ...sig, bodyHash: 'b'.repeat(64) }),
      ).rejects.toBeInstanceOf(SignatureReplayError);
      expect(await store.messages.get(a, 's2')).toBeUndefined();
      // The same signature under another app is that app's own.
      const other = uniqueName('sig');
      const own = { ...sig, bodyHash: 'c'.repeat(64) };
      expect((await store.messages.insert(message(other, 's1'), [], NOW, own)).inserted).toBe(true);
      // Concurrent deliveries of one push with two bodies: exactly one body wins.
      const race = uniqueName('sig');
      const raced = await Promise.allSettled(
        ['1', '2', '3', '4'].map((n) =>
          store.messages.insert(message(race, `r${n}`), [], NOW, {
            ...sig,
            bodyHash: n.repeat(64),
          }),
        ),
      );
      expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await store.messages.count(race)).toBe(1);
      // Purged once expired; a purge before that keeps it.
      await store.messages.purgeSignatures(NOW, 1000);
      expect(
        await store.messages
          .insert(message(a, 's3'), [], NOW, { ...sig, bodyHash: 'd'.repeat(64) })
          .catch((e: unknown) => e),
      ).toBeInstanceOf(SignatureReplayError);
      expect(await store.messages.purgeSignatures(NOW + 300_001, 1000)).toBeGreaterThanOrEqual(3);
      expect(
        (
          await store.messages.insert(message(a, 's3'), [], NOW, {
            ...sig,
            bodyHash: 'd'.repeat(64),
          })
        ).inserted,
      ).toBe(true);
    });

    it('commits deliveries with the message, drains them with retries, and marks dead after max attempts', async () => {
      const a = uniqueName('obx');
      const d = (n: number) => ({
        owner: a,
        targetUrl: `http://127.0.0.1:9/${n}`,
        idempotencyKey: `${a}-${n}`,
        payload: '{"MsgType":"text"}',
        maxAttempts: 2,
        nextAttemptAt: NOW,
      });
      await store.messages.insert(message(a, 'x1'), [d(1), d(2)], NOW);
      const dup = await store.messages.insert(message(a, 'x1'), [d(1), d(2)], NOW);
      expect(dup.inserted).toBe(false);
      expect(await store.outbox.list({ owner: a })).toHaveLength(2);

      // Scoped to this test's owner: other test files share the MySQL database.
      const claimed = await store.outbox.claimDue(`w-${a}`, NOW, 30_000, 1000, a);
      expect(claimed.every((c) => c.owner === a)).toBe(true);
      const mine = claimed.filter((c) => c.owner === a);
      expect(mine).toHaveLength(2);
      expect(
        (await store.outbox.claimDue(`w2-${a}`, NOW, 30_000, 1000, a)).filter((c) => c.owner === a),
      ).toHaveLength(0);
      const [one, two] = mine;
      if (one === undefined || two === undefined) throw new Error('expected two deliveries');
      expect(await store.outbox.markDelivered(one.id, 'intruder', NOW)).toBe(false);
      expect(await store.outbox.markDelivered(one.id, `w-${a}`, NOW)).toBe(true);
      expect(await store.outbox.markFailed(two.id, `w-${a}`, 'HTTP 503', NOW + 1000, NOW)).toBe(
        'pending',
      );
      const retry = (await store.outbox.claimDue(`w3-${a}`, NOW + 1000, 30_000, 1000, a)).filter(
        (c) => c.owner === a,
      );
      expect(retry.map((r) => r.id)).toEqual([two.id]);
      expect(
        await store.outbox.markFailed(two.id, `w3-${a}`, 'timeout', NOW + 5000, NOW + 1000),
      ).toBe('dead');
      const rows = await store.outbox.list({ owner: a });
      expect(rows.map((r) => [r.status, r.attempts])).toEqual([
        ['delivered', 1],
        ['dead', 2],
      ]);
      expect(rows[1]?.lastError).toBe('timeout');
    });

    it('keeps the first answer of a message: finishReply never overwrites', async () => {
      const a = uniqueName('fin');
      const { message: m } = await store.messages.insert(message(a, 'f1'), [], NOW);
      const answers = await Promise.all([
        store.messages.finishReply(m.id, '<xml>first</xml>'),
        store.messages.finishReply(m.id, 'success'),
      ]);
      expect(answers[0]).toBe(answers[1]);
      expect(await store.messages.finishReply(m.id, 'late')).toBe(answers[0]);
      expect((await store.messages.get(a, 'f1'))?.reply).toBe(answers[0]);
    });

    it('keeps the authorizer appid of a component message, and none for an account message', async () => {
      const a = uniqueName('azr');
      const authorizer = 'wx570bc396a51b8ff8';
      await store.messages.insert({ ...message(a, 'z1'), authorizerAppid: authorizer }, [], NOW);
      await store.messages.insert(message(a, 'z2'), [], NOW);
      expect((await store.messages.get(a, 'z1'))?.authorizerAppid).toBe(authorizer);
      expect((await store.messages.get(a, 'z2'))?.authorizerAppid).toBeUndefined();
    });

    it('stores deliveries locked by the receiver, out of the drain until the lock expires', async () => {
      const a = uniqueName('lck');
      const locked = {
        owner: a,
        targetUrl: 'http://127.0.0.1:9/x',
        idempotencyKey: `${a}-l`,
        payload: '{}',
        maxAttempts: 3,
        nextAttemptAt: NOW,
        lockedBy: `recv-${a}`,
        lockedUntil: NOW + 5_000,
      };
      const { message: m } = await store.messages.insert(message(a, 'l1'), [locked], NOW);
      const mine = await store.outbox.forSource('message', m.id);
      expect(mine.map((d) => [d.owner, d.status, d.attempts])).toEqual([[a, 'pending', 0]]);
      const early = await store.outbox.claimDue(`drain-${a}`, NOW + 1_000, 30_000, 1000, a);
      expect(early.filter((d) => d.owner === a)).toHaveLength(0);
      const id = mine[0]?.id ?? -1;
      expect(await store.outbox.markDelivered(id, `recv-${a}`, NOW + 100)).toBe(true);
      await store.outbox.purgeDelivered(NOW + 50, 1000);
      expect(await store.outbox.forSource('message', m.id)).toHaveLength(1);
      expect(await store.outbox.purgeDelivered(NOW + 200, 10_000)).toBeGreaterThanOrEqual(1);
      expect(await store.outbox.forSource('message', m.id)).toHaveLength(0);
    });

    it('purges messages older than the cut-off', async () => {
      const a = uniqueName('old');
      await store.messages.insert({ ...message(a, 'old'), receivedAt: 1000 }, [], NOW);
      await store.messages.insert({ ...message(a, 'new'), receivedAt: NOW }, [], NOW);
      expect(await store.messages.purgeBefore(2000, 10_000)).toBeGreaterThanOrEqual(1);
      expect(await store.messages.get(a, 'old')).toBeUndefined();
      expect(await store.messages.get(a, 'new')).toBeDefined();
    });
  });

  describe('pay notifications', () => {
    it('stores a notification once by id', async () => {
      const m = uniqueName('pay');
      const n = {
        merchant: m,
        notificationId: 'EV-2018022511223320873',
        eventType: 'TRANSACTION.SUCCESS',
        resourceType: 'encrypt-resource',
        summary: '支付成功',
        createTime: '2015-05-20T13:29:35+08:00',
        raw: '{"id":"EV-2018022511223320873"}',
        resource: { out_trade_no: 'o1', amount: { total: 100 } },
        receivedAt: NOW,
      };
      const delivery = {
        owner: m,
        targetUrl: 'http://127.0.0.1:9/pay',
        idempotencyKey: `${m}-p`,
        payload: '{}',
        maxAttempts: 3,
        nextAttemptAt: NOW,
      };
      const results = await Promise.all(
        [1, 2, 3].map(() => store.payNotifications.insert(n, [delivery], NOW)),
      );
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
      expect(new Set(results.map((r) => r.notification.id)).size).toBe(1);
      expect(await store.payNotifications.get(m, n.notificationId)).toMatchObject({
        resource: { amount: { total: 100 } },
      });
      expect(await store.outbox.list({ owner: m })).toHaveLength(1);
    });
  });

  describe('values sealed under a key no longer configured', () => {
    const otherKey = Buffer.from('another-32-byte-key-for-rotation', 'utf8');
    const oldId = keyIdOf(TEST_SECRET_KEY);

    it('are read as unreadable, naming the key id, without making a read or list throw', async () => {
      const name = uniqueName('sealed');
      const mch = uniqueName('mch');
      await store.apps.upsert(app(name), 'file', NOW);
      await store.merchants.upsert(
        {
          name: mch,
          mchId: '1900000109',
          apiV3Key: 'V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12',
          serialNo: 'ABCDEF0123456789',
          privateKey: 'PRIVATE-PEM-VALUE',
          platformCertificates: [],
          forward: [],
        },
        'file',
        NOW,
      );
      const k = { owner: `app:${name}`, kind: 'access_token' };
      await store.credentials.put(k, { value: 'TOKEN-VALUE-1', expiresAt: NOW - 1 }, NOW);

      // Only the new key: the rows above no longer open.
      const rotated = await createStore(opened.handle, createSecretBox([otherKey]));
      const got = await rotated.apps.get(name);
      expect(got).toMatchObject({ name, appSecret: undefined, token: undefined });
      expect(got?.unreadable?.map((u) => [u.code, u.column, u.keyId])).toEqual([
        ['SECRET_KEY_UNKNOWN', 'apps.app_secret', oldId],
        ['SECRET_KEY_UNKNOWN', 'apps.callback_token', oldId],
        ['SECRET_KEY_UNKNOWN', 'apps.encoding_aes_key', oldId],
      ]);
      expect((await rotated.apps.list()).map((a) => a.name)).toContain(name);
      const m = (await rotated.merchants.list()).find((x) => x.name === mch);
      expect(m?.unreadable?.map((u) => u.column)).toEqual([
        'merchants.api_v3_key',
        'merchants.private_key',
      ]);
      const row = await rotated.credentials.get(k);
      expect(row).toMatchObject({ value: undefined, unreadable: { code: 'SECRET_KEY_UNKNOWN' } });
      expect(row?.unreadable?.message).toContain(`key id ${oldId}`);
      expect(JSON.stringify([got, m, row])).not.toContain('TOKEN-VALUE-1');
      const unknown = await rotated.credentials.listUnderUnknownKeys(100_000);
      expect(unknown.find((r) => r.owner === k.owner && r.kind === k.kind)?.unreadable?.code).toBe(
        'SECRET_KEY_UNKNOWN',
      );
      expect(unknown.every((r) => r.unreadable !== undefined)).toBe(true);

      // Both keys, the new one first: the old rows still open.
      const both = await createStore(opened.handle, createSecretBox([otherKey, TEST_SECRET_KEY]));
      expect(await both.apps.get(name)).toMatchObject({ appSecret: 'app-secret-value-1234567890' });
      expect((await both.apps.get(name))?.unreadable).toBeUndefined();
      expect((await both.credentials.get(k))?.value).toBe('TOKEN-VALUE-1');
    });
  });

  describe('authorizer directory', () => {
    it('adds, updates, revokes and re-authorizes one row per (app, appid)', async () => {
      const comp = uniqueName('comp');
      const first = await store.authorizers.markAuthorized(
        comp,
        'wxa1',
        { authorizedAt: NOW, funcInfo: [1, 17] },
        NOW,
      );
      expect(first).toBe('added');
      expect(await store.authorizers.get(comp, 'wxa1')).toEqual({
        app: comp,
        appId: 'wxa1',
        status: 'authorized',
        nickName: undefined,
        userName: undefined,
        funcInfo: [1, 17],
        authorizedAt: NOW,
        updatedAt: NOW,
        revokedAt: undefined,
      });
      // Fields not given keep their value; a name at the declared length (191) fits.
      const nick = `${'公众号'.repeat(63)}ab`;
      const again = await store.authorizers.markAuthorized(
        comp,
        'wxa1',
        { authorizedAt: NOW + 1, nickName: nick, userName: 'gh_0123456789ab' },
        NOW + 2,
      );
      expect(again).toBe('updated');
      expect(await store.authorizers.get(comp, 'wxa1')).toMatchObject({
        funcInfo: [1, 17],
        nickName: nick,
        userName: 'gh_0123456789ab',
        authorizedAt: NOW + 1,
        updatedAt: NOW + 2,
      });
      await store.authorizers.markRevoked(comp, 'wxa1', NOW + 3);
      expect(await store.authorizers.get(comp, 'wxa1')).toMatchObject({
        status: 'revoked',
        revokedAt: NOW + 3,
        nickName: nick,
      });
      await store.authorizers.markAuthorized(comp, 'wxa1', { authorizedAt: NOW + 4 }, NOW + 4);
      expect(await store.authorizers.get(comp, 'wxa1')).toMatchObject({
        status: 'authorized',
        revokedAt: undefined,
      });
      // Unknown, or of another component.
      expect(await store.authorizers.get(comp, 'wxa2')).toBeUndefined();
      expect(await store.authorizers.get(uniqueName('comp'), 'wxa1')).toBeUndefined();
      // A revocation of an authorizer never seen is kept too.
      await store.authorizers.markRevoked(comp, 'wxa9', NOW);
      expect((await store.authorizers.get(comp, 'wxa9'))?.status).toBe('revoked');
    });

    it('lists in appid order, filtered by status, paged with offset and limit', async () => {
      const comp = uniqueName('comp');
      const other = uniqueName('comp');
      await store.authorizers.markAuthorized(other, 'wxa00', { authorizedAt: NOW }, NOW);
      for (let i = 9; i >= 0; i--) {
        await store.authorizers.markAuthorized(comp, `wxa0${i}`, { authorizedAt: NOW }, NOW);
      }
      for (const i of [1, 4, 7]) await store.authorizers.markRevoked(comp, `wxa0${i}`, NOW);
      const ids = (r: { authorizers: { appId: string }[] }) => r.authorizers.map((a) => a.appId);
      const all = await store.authorizers.list(comp, { offset: 0, limit: 100 });
      expect(all.total).toBe(10);
      expect(ids(all)).toEqual(Array.from({ length: 10 }, (_, i) => `wxa0${i}`));
      const page = await store.authorizers.list(comp, {
        status: 'authorized',
        offset: 2,
        limit: 3,
      });
      expect(page.total).toBe(7);
      expect(ids(page)).toEqual(['wxa03', 'wxa05', 'wxa06']);
      const revoked = await store.authorizers.list(comp, {
        status: 'revoked',
        offset: 0,
        limit: 2,
      });
      expect(revoked.total).toBe(3);
      expect(ids(revoked)).toEqual(['wxa01', 'wxa04']);
      const past = await store.authorizers.list(comp, { offset: 10, limit: 5 });
      expect(past).toEqual({ authorizers: [], total: 10 });
      const some = await store.authorizers.getMany(comp, ['wxa02', 'wxa04', 'wxa99']);
      expect(some.map((x) => [x.appId, x.status]).sort()).toEqual([
        ['wxa02', 'authorized'],
        ['wxa04', 'revoked'],
      ]);
      expect(await store.authorizers.getMany(other, ['wxa02'])).toEqual([]);
    });
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
