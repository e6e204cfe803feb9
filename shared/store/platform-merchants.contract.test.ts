import { describe, expect, it } from 'vitest';
import type { TestTarget } from './testing';
import { testTargets, uniqueName, useTestStore } from './testing';

const NOW = 1_800_000_000_000;

describe.each(testTargets())('platform merchants repository on $name', (target: TestTarget) => {
  const { store } = useTestStore(target);

  it('marks a merchant authorized once per (app, merchant), again later, and revoked', async () => {
    const app = uniqueName('fn');
    const repo = () => store().platformMerchants;
    expect(await repo().get(app, '51659')).toBeUndefined();
    await repo().markAuthorized(app, 'fengniao', '51659', NOW);
    await repo().markAuthorized(app, 'fengniao', '51659', NOW + 1000);
    await repo().markAuthorized(app, 'fengniao', '10001', NOW + 2000);
    expect(await repo().get(app, '51659')).toEqual({
      app,
      platform: 'fengniao',
      merchant: '51659',
      status: 'authorized',
      authorizedAt: NOW + 1000,
      updatedAt: NOW + 1000,
    });
    await repo().markRevoked(app, '51659', NOW + 3000);
    expect(await repo().get(app, '51659')).toMatchObject({
      status: 'revoked',
      updatedAt: NOW + 3000,
    });
    expect((await repo().list(app, 10)).map((m) => [m.merchant, m.status])).toEqual([
      ['10001', 'authorized'],
      ['51659', 'revoked'],
    ]);
    // Another app's merchant of the same id is its own row.
    expect(await repo().get(uniqueName('fn'), '51659')).toBeUndefined();
  });
});
