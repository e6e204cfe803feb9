import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStore, openTestStore, testTargets } from '../store/testing';
import { appOwner } from '../tokens/app-tokens';
import { SUITE_TICKET_KIND, SUITE_TICKET_TTL_MS } from '../wecom-suite/suite';
import { PUSHED_TICKETS, ticketAges } from './conditions';

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

describe.each(testTargets())('ticket ages on $name', (target) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openTestStore(target);
  });
  afterAll(() => opened.store.close());

  it("keeps a WeCom suite's ticket values equal to the suite code's", () => {
    expect(PUSHED_TICKETS['wecom-suite']).toEqual({
      kind: SUITE_TICKET_KIND,
      ttlMs: SUITE_TICKET_TTL_MS,
    });
  });

  it('names a WeCom suite without a ticket stale, then its pushed ticket with its age', async () => {
    const { store } = opened;
    const now = Date.UTC(2026, 10, 30, 12);
    const name = `suite-${Date.now().toString(36)}`;
    await store.apps.upsert(
      {
        name,
        kind: 'wecom-suite',
        appId: `wwsuite${Date.now().toString(36)}`,
        appSecret: 'suite-secret',
        token: 'SuiteToken123',
        encodingAesKey: AES_KEY,
        providerCorpId: 'wwprovider01',
        tokenMode: 'classic',
        forward: [],
      },
      'file',
      now,
    );
    const before = (await ticketAges(store, now)).find((t) => t.app === name);
    expect(before).toEqual({ app: name, ageSeconds: null, stale: true });
    // Pushed 10 minutes ago: valid for 20 more.
    const pushedAt = now - 600_000;
    await store.credentials.putIfNewer(
      { owner: appOwner({ name }), kind: SUITE_TICKET_KIND },
      { value: 'ticket-1', expiresAt: pushedAt + SUITE_TICKET_TTL_MS },
      now,
    );
    const after = (await ticketAges(store, now)).find((t) => t.app === name);
    expect(after).toEqual({ app: name, ageSeconds: 600, stale: false });
    // 40 minutes after the push: past its 30-minute validity.
    const late = (await ticketAges(store, pushedAt + 40 * 60_000)).find((t) => t.app === name);
    expect(late).toEqual({ app: name, ageSeconds: 2400, stale: true });
  });
});
