import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { CosBucketConfig } from '../../shared/config/signing-entries';
import { testTargets, uniqueName } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub } from '../testing';

function bucket(over: Partial<CosBucketConfig> = {}): CosBucketConfig {
  const name = uniqueName('cos');
  return {
    name,
    secretId: `AKID${name.replace(/[^a-z0-9]/g, '').slice(-16)}`,
    secretKey: `key-${name}`,
    bucket: 'examplebucket-1250000000',
    region: 'ap-guangzhou',
    prefix: 'uploads/',
    maxBytes: 1024,
    expiresSeconds: 600,
    ...over,
  };
}

type Signed = { url: string; method: string; headers: Record<string, string>; expiresAt: string };

const upload = (hub: TestHub, name: string, body: unknown) =>
  hub.app.request(`/v1/cos/${name}/upload`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe.each(testTargets())('COS upload signing on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('answers a pre-signed PUT that COS (the simulator) accepts', async () => {
    const b = bucket();
    const hub = await createTestHub(target, { cos: [b], sim });
    try {
      const key = `uploads/${uniqueName('img')}/photo (1).png`;
      const res = await upload(hub, b.name, { key, contentType: 'image/png', maxBytes: 5 });
      expect(res.status).toBe(200);
      const signed = (await res.json()) as Signed;
      expect(signed.method).toBe('PUT');
      expect(signed.headers).toEqual({ 'Content-Type': 'image/png', 'Content-Length': '5' });
      expect(signed.expiresAt).toBe(
        new Date((Math.floor(sim.sim.clock.now() / 1000) + 600) * 1000).toISOString(),
      );
      const url = new URL(signed.url);
      expect(url.searchParams.get('q-sign-algorithm')).toBe('sha1');
      expect(url.searchParams.get('q-header-list')).toBe('content-length;content-type;host');
      expect(signed.url).not.toContain(b.secretKey);

      const put = await fetch(signed.url, {
        method: 'PUT',
        headers: signed.headers,
        body: 'hello',
      });
      expect(put.status).toBe(200);
      expect(sim.sim.cos.objects.at(-1)).toEqual({
        bucket: b.bucket,
        key,
        bytes: 5,
        contentType: 'image/png',
      });
    } finally {
      await hub.close();
    }
  });

  it('a tampered or expired upload is refused by the simulator', async () => {
    const b = bucket();
    const hub = await createTestHub(target, { cos: [b], sim });
    try {
      const res = await upload(hub, b.name, { key: 'uploads/a.txt', contentType: 'text/plain' });
      const signed = (await res.json()) as Signed;
      const otherKey = signed.url.replace('/uploads/a.txt?', '/uploads/b.txt?');
      const moved = await fetch(otherKey, { method: 'PUT', headers: signed.headers, body: 'x' });
      expect(moved.status).toBe(403);
      expect(await moved.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
      const retyped = await fetch(signed.url, {
        method: 'PUT',
        headers: { 'Content-Type': 'text/html' },
        body: 'x',
      });
      expect(retyped.status).toBe(403);
      sim.sim.clock.advance(601_000);
      const late = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: 'x' });
      expect(late.status).toBe(403);
      expect(await late.text()).toContain('<Code>AccessDenied</Code>');
    } finally {
      await hub.close();
    }
  });

  it('refuses keys outside the prefix, climbing or absolute, and sizes over the limit (400)', async () => {
    const b = bucket();
    const hub = await createTestHub(target, { cos: [b], sim });
    try {
      for (const key of [
        'other/a.png',
        'uploads/../secret.png',
        '/uploads/a.png',
        'uploads//a.png',
        'uploads/./a.png',
        'uploads\\a.png',
        '',
      ]) {
        const r = await upload(hub, b.name, { key });
        expect([key, r.status]).toEqual([key, 400]);
      }
      expect((await upload(hub, b.name, { key: 'uploads/a', maxBytes: 1025 })).status).toBe(400);
      expect((await upload(hub, b.name, { key: 'uploads/a', contentType: 'x' })).status).toBe(400);
      expect((await upload(hub, 'no-such-bucket', { key: 'uploads/a' })).status).toBe(404);
    } finally {
      await hub.close();
    }
  });
});
