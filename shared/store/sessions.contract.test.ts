import { describe, expect, it } from 'vitest';
import type { TestTarget } from './testing';
import { rawTableText, testTargets, uniqueName, useTestStore } from './testing';

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;

describe.each(testTargets())('login sessions store contract on $name', (target: TestTarget) => {
  const { store, opened } = useTestStore(target);

  it('keeps one sealed session key per app and openid, replaced on save', async () => {
    const app = uniqueName('mp').slice(0, 64);
    const openid = `o${'x'.repeat(127)}`;
    expect(await store().loginSessions.get(app, openid)).toBeUndefined();
    await store().loginSessions.save(app, openid, 'c2Vzc2lvbi1rZXktb25lIQ==', NOW);
    await store().loginSessions.save(app, 'other', 'b3RoZXIta2V5LW9uZSEhIQ==', NOW);
    await store().loginSessions.save(app, openid, 'c2Vzc2lvbi1rZXktdHdvIQ==', NOW + 1);
    expect(await store().loginSessions.get(app, openid)).toEqual({
      sessionKey: 'c2Vzc2lvbi1rZXktdHdvIQ==',
      updatedAt: NOW + 1,
    });
    expect(await store().loginSessions.get(`${app}-x`, openid)).toBeUndefined();
    const raw = await rawTableText(opened(), 'login_sessions');
    expect(raw).not.toContain('c2Vzc2lvbi1rZXk');
  });

  it('stores one key per generation: a second insert of a generation loses', async () => {
    const newest = (await store().signingKeys.recent(1))[0]?.generation ?? 0;
    const key = (n: number, kid: string) => ({
      generation: n,
      kid,
      alg: 'ES256',
      publicJwk: { kty: 'EC', kid },
      privateJwk: JSON.stringify({ kty: 'EC', d: `secret-${kid}` }),
      signsFrom: NOW,
      signsUntil: NOW + DAY,
      createdAt: NOW,
    });
    const a = uniqueName('kid-a');
    expect(await store().signingKeys.insert(key(newest + 1, a))).toBe(true);
    expect(await store().signingKeys.insert(key(newest + 1, uniqueName('kid-b')))).toBe(false);
    expect(await store().signingKeys.insert(key(newest + 2, uniqueName('kid-c')))).toBe(true);
    const [second, first] = await store().signingKeys.recent(2);
    expect(second?.generation).toBe(newest + 2);
    expect(first).toMatchObject({
      generation: newest + 1,
      kid: a,
      publicJwk: { kty: 'EC', kid: a },
      privateKey: { jwk: JSON.stringify({ kty: 'EC', d: `secret-${a}` }) },
      signsUntil: NOW + DAY,
    });
    expect(await rawTableText(opened(), 'signing_keys')).not.toContain(`secret-${a}`);
  });
});
