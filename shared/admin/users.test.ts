import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { createLogger } from '../http/log';
import type { OpenedStore, TestTarget } from '../store/testing';
import { openTestStore, testTargets, uniqueName } from '../store/testing';
import { verifyPassword } from './password';
import { ensureEnvAdmin } from './users';

describe.each(testTargets())('the env admin on $name', (target: TestTarget) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openTestStore(target);
  });
  afterAll(async () => {
    await opened.store.close();
  });

  const depsFor = (user: string, password: string, now: number) => ({
    config: parseConfig({ WXHUB_ADMIN_USER: user, WXHUB_ADMIN_PASSWORD: password }),
    // A store object of its own per "start": ensureEnvAdmin runs once per process and store.
    store: { admin: opened.store.admin },
    clock: { now: () => now },
    log: createLogger('silent'),
  });

  it('creates the admin, leaves a verifying hash alone on the next start, and resets it when the env password changes', async () => {
    const user = uniqueName('env').slice(-40);
    await ensureEnvAdmin(depsFor(user, 'first password 1', 1_000));
    const created = await opened.store.admin.userByName(user);
    expect(created?.createdAt).toBe(1_000);
    expect(await verifyPassword('first password 1', created?.passwordHash ?? '')).toBe(true);

    await ensureEnvAdmin(depsFor(user, 'first password 1', 2_000));
    const same = await opened.store.admin.userByName(user);
    expect(same?.passwordHash).toBe(created?.passwordHash);
    expect(same?.updatedAt).toBe(1_000);

    await ensureEnvAdmin(depsFor(user, 'second password 2', 3_000));
    const reset = await opened.store.admin.userByName(user);
    expect(reset?.updatedAt).toBe(3_000);
    expect(await verifyPassword('second password 2', reset?.passwordHash ?? '')).toBe(true);
    expect(await verifyPassword('first password 1', reset?.passwordHash ?? '')).toBe(false);
  });

  it('does nothing without WXHUB_ADMIN_USER', async () => {
    const before = await opened.store.admin.userByName('admin');
    await ensureEnvAdmin({
      config: parseConfig({}),
      store: { admin: opened.store.admin },
      clock: { now: () => 1 },
      log: createLogger('silent'),
    });
    expect(await opened.store.admin.userByName('admin')).toEqual(before);
  });
});
