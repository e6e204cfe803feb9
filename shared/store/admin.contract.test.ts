import { describe, expect, it } from 'vitest';
import type { TestTarget } from './testing';
import { testTargets, uniqueName, useTestStore } from './testing';

const NOW = 1_800_000_000_000;
const MIN = 60_000;

describe.each(testTargets())('admin store contract on $name', (target: TestTarget) => {
  const { store } = useTestStore(target);

  it('creates a user once, then only replaces its password hash', async () => {
    const name = uniqueName('admin').slice(0, 60);
    expect(await store().admin.setUser(name, 'scrypt$hash-1', NOW)).toBe('created');
    const created = await store().admin.userByName(name);
    expect(created).toMatchObject({ name, passwordHash: 'scrypt$hash-1', enabled: true });
    expect(await store().admin.setUser(name, 'scrypt$hash-2', NOW + 1)).toBe('updated');
    const byId = await store().admin.userById(created?.id ?? -1);
    expect(byId).toMatchObject({ name, passwordHash: 'scrypt$hash-2', createdAt: NOW });
    expect(byId?.updatedAt).toBe(NOW + 1);
    expect(await store().admin.userByName(`${name}-none`)).toBeUndefined();
  });

  it('disables every other user in one UPDATE, enables one, and deletes sessions by user', async () => {
    const keep = uniqueName('keep').slice(0, 60);
    const other = uniqueName('other').slice(0, 60);
    await store().admin.setUser(keep, 'scrypt$k', NOW);
    await store().admin.setUser(other, 'scrypt$o', NOW);
    const k = await store().admin.userByName(keep);
    const o = await store().admin.userByName(other);
    if (k === undefined || o === undefined) throw new Error('users not stored');
    const hash = (n: string) => `${uniqueName(n)}`.padEnd(64, '0').slice(0, 64);
    const session = { csrfToken: 'c', createdAt: NOW, lastSeenAt: NOW, expiresAt: NOW + MIN };
    const ks = hash('ks');
    const os = hash('os');
    await store().admin.createSession({ ...session, tokenHash: ks, userId: k.id });
    await store().admin.createSession({ ...session, tokenHash: os, userId: o.id });
    expect(await store().admin.disableUsersExcept(k.id, NOW + 1)).toBeGreaterThanOrEqual(1);
    expect(await store().admin.userByName(other)).toMatchObject({
      enabled: false,
      updatedAt: NOW + 1,
    });
    expect((await store().admin.userByName(keep))?.enabled).toBe(true);
    expect(await store().admin.disableUsersExcept(k.id, NOW + 2)).toBe(0);
    expect(await store().admin.deleteUserSessions(k.id, true)).toBeGreaterThanOrEqual(1);
    expect(await store().admin.session(os)).toBeUndefined();
    expect(await store().admin.session(ks)).toBeDefined();
    expect(await store().admin.deleteUserSessions(k.id)).toBe(1);
    expect(await store().admin.session(ks)).toBeUndefined();
    await store().admin.enableUser(o.id, NOW + 3);
    expect((await store().admin.userById(o.id))?.enabled).toBe(true);
    // A password reset enables the user too.
    await store().admin.disableUsersExcept(k.id, NOW + 4);
    expect(await store().admin.setUser(other, 'scrypt$o2', NOW + 5)).toBe('updated');
    expect((await store().admin.userById(o.id))?.enabled).toBe(true);
  });

  it('keeps sessions by token hash, touches, deletes and purges expired ones', async () => {
    const hash = (n: string) => `${uniqueName(n)}`.padEnd(64, '0').slice(0, 64);
    const live = hash('live');
    const old = hash('old');
    const session = { userId: 1, csrfToken: 'csrf', createdAt: NOW, lastSeenAt: NOW };
    await store().admin.createSession({ ...session, tokenHash: live, expiresAt: NOW + 60 * MIN });
    await store().admin.createSession({ ...session, tokenHash: old, expiresAt: NOW + MIN });
    await store().admin.touchSession(live, NOW + 5 * MIN);
    expect(await store().admin.session(live)).toMatchObject({
      userId: 1,
      csrfToken: 'csrf',
      lastSeenAt: NOW + 5 * MIN,
      expiresAt: NOW + 60 * MIN,
    });
    expect(await store().admin.purgeSessions(NOW + 2 * MIN, 100)).toBeGreaterThanOrEqual(1);
    expect(await store().admin.session(old)).toBeUndefined();
    expect(await store().admin.deleteSession(live)).toBe(true);
    expect(await store().admin.deleteSession(live)).toBe(false);
    expect(await store().admin.session(live)).toBeUndefined();
  });

  it('ranks login attempts per user name within a window, forgets one, and purges old ones', async () => {
    const name = uniqueName('who');
    const since = NOW - 15 * MIN;
    const rank = async (n: string, at: number) =>
      (await store().admin.addLoginAttempt(n, at, undefined, since)).rank;
    const old = await store().admin.addLoginAttempt(name, NOW - 20 * MIN, '10.0.0.1', since);
    expect(old.rank).toBe(0);
    const ranks: number[] = [];
    for (let i = 0; i < 3; i += 1) ranks.push(await rank(name, NOW - i * MIN));
    expect(ranks).toEqual([1, 2, 3]);
    expect(await rank(`${name}-other`, NOW)).toBe(1);
    expect(await store().admin.countLoginFailures(name, NOW - 15 * MIN)).toBe(3);
    expect(await store().admin.countLoginFailures(name, NOW - 30 * MIN)).toBe(4);
    const right = await store().admin.addLoginAttempt(name, NOW, undefined, since);
    expect(right.rank).toBe(4);
    await store().admin.deleteLoginAttempt(right.id);
    expect(await store().admin.countLoginFailures(name, NOW - 15 * MIN)).toBe(3);
    // Only attempts before the window go, oldest first, at most `limit` per call.
    expect(await store().admin.purgeLoginFailures(NOW - 15 * MIN, 1_000)).toBeGreaterThanOrEqual(1);
    expect(await store().admin.countLoginFailures(name, 0)).toBe(3);
    expect(await store().admin.countLoginFailures(`${name}-other`, 0)).toBe(1);
  });

  it('ranks concurrent attempts one each, so exactly one is the 5th', async () => {
    const name = uniqueName('many');
    const made = await Promise.all(
      Array.from({ length: 8 }, () => store().admin.addLoginAttempt(name, NOW, '::1', NOW - MIN)),
    );
    expect(made.map((m) => m.rank).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('appends audit entries and lists the newest first', async () => {
    const action = uniqueName('act').slice(0, 60);
    await store().admin.addAudit({
      at: NOW + 1,
      actor: { id: 7, name: 'root' },
      action,
      ip: '::1',
    });
    await store().admin.addAudit({
      at: NOW + 2,
      actor: null,
      action,
      target: 'key:1',
      detail: { name: 'ci', enabled: true, n: 2, none: null },
    });
    const listed = (await store().admin.listAudit(1000)).filter((e) => e.action === action);
    expect(listed).toEqual([
      expect.objectContaining({
        at: NOW + 2,
        actor: null,
        target: 'key:1',
        ip: null,
        detail: { name: 'ci', enabled: true, n: 2, none: null },
      }),
      expect.objectContaining({ at: NOW + 1, actor: { id: 7, name: 'root' }, ip: '::1' }),
    ]);
    expect(await store().admin.listAudit(1)).toHaveLength(1);
  });

  it('stores API keys by hash, finds them by hash, revokes once, records last use', async () => {
    const keyHash = uniqueName('h').padEnd(64, 'a').slice(0, 64);
    const id = await store().admin.createApiKey({
      name: 'ci',
      prefix: 'wxk_abcd',
      keyHash,
      createdBy: 'root',
      createdAt: NOW,
    });
    expect(await store().admin.apiKeyByHash(keyHash)).toEqual({ id, revokedAt: undefined });
    expect(await store().admin.apiKeyByHash(keyHash.replace(/.$/, '_'))).toBeUndefined();
    await expect(
      store().admin.createApiKey({
        name: 'x',
        prefix: 'p',
        keyHash,
        createdBy: 'r',
        createdAt: NOW,
      }),
    ).rejects.toThrow();
    await store().admin.touchApiKey(id, NOW + MIN);
    expect(await store().admin.revokeApiKey(id, NOW + 2 * MIN)).toBe(true);
    expect(await store().admin.revokeApiKey(id, NOW + 3 * MIN)).toBe(true);
    expect(await store().admin.revokeApiKey(999_999, NOW)).toBe(false);
    expect(await store().admin.apiKeyByHash(keyHash)).toEqual({ id, revokedAt: NOW + 2 * MIN });
    const listed = (await store().admin.listApiKeys()).find((k) => k.id === id);
    expect(listed).toEqual({
      id,
      name: 'ci',
      prefix: 'wxk_abcd',
      createdBy: 'root',
      createdAt: NOW,
      lastUsedAt: NOW + MIN,
      revokedAt: NOW + 2 * MIN,
    });
    expect(JSON.stringify(listed)).not.toContain(keyHash);
  });
});
