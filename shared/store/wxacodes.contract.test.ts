import { describe, expect, it } from 'vitest';
import type { TestTarget } from './testing';
import { testTargets, uniqueName, useTestStore } from './testing';

const NOW = 1_800_000_000_000;

/** Every byte value, twice, and more than a MySQL BLOB's 64 KiB: a MEDIUMBLOB is needed. */
function image(): Uint8Array {
  const bytes = new Uint8Array(70_000);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7) & 0xff;
  return bytes;
}

describe.each(testTargets())('wxacodes repository on $name', (target: TestTarget) => {
  const { store } = useTestStore(target);
  const key = (over = {}) => ({
    appId: uniqueName('wx'),
    kind: 'limited',
    paramsHash: 'a'.repeat(64),
    ...over,
  });

  it('one claim wins; the image is stored byte for byte and counted for its app', async () => {
    const k = key();
    expect(await store().wxacodes.claim(k, 'one', NOW, 10_000)).toBe(true);
    expect(await store().wxacodes.claim(k, 'two', NOW, 10_000)).toBe(false);
    expect(await store().wxacodes.get(k)).toEqual({ leaseOwner: 'one', leaseUntil: NOW + 10_000 });
    expect(
      await store().wxacodes.save(k, 'two', { image: image(), contentType: 'image/png' }, NOW),
    ).toBe(false);
    expect(await store().wxacodes.countGenerated(k.appId)).toBe(0);
    expect(
      await store().wxacodes.save(k, 'one', { image: image(), contentType: 'image/png' }, NOW),
    ).toBe(true);
    const row = await store().wxacodes.get(k);
    expect(row?.contentType).toBe('image/png');
    expect(Buffer.from(row?.image ?? new Uint8Array()).equals(Buffer.from(image()))).toBe(true);
    expect(await store().wxacodes.claim(k, 'three', NOW + 60_000, 10_000)).toBe(false);
    await store().wxacodes.claim({ ...k, kind: 'qrcode' }, 'q', NOW, 10_000);
    await store().wxacodes.save(
      { ...k, kind: 'qrcode' },
      'q',
      { image: image(), contentType: 'image/jpeg' },
      NOW,
    );
    expect(await store().wxacodes.countGenerated(k.appId)).toBe(2);
    expect(await store().wxacodes.countGenerated(uniqueName('other'))).toBe(0);
  });

  it('an expired or released lease is taken over; a live one is not', async () => {
    const k = key();
    expect(await store().wxacodes.claim(k, 'one', NOW, 10_000)).toBe(true);
    expect(await store().wxacodes.claim(k, 'two', NOW + 9_999, 10_000)).toBe(false);
    expect(await store().wxacodes.claim(k, 'two', NOW + 10_000, 10_000)).toBe(true);
    await store().wxacodes.release(k, 'one'); // no longer its lease: nothing changes
    expect((await store().wxacodes.get(k))?.leaseOwner).toBe('two');
    await store().wxacodes.release(k, 'two');
    expect(await store().wxacodes.get(k)).toEqual({});
    expect(await store().wxacodes.claim(k, 'three', NOW, 10_000)).toBe(true);
  });
});
