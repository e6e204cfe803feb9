import { describe, expect, it } from 'vitest';
import { DEV_API_KEY } from './start';
import { devEnv, startDevBanner } from './testing';

/** What a banner line's curl sends: its URL and `-d` body. */
function parse(line: string): { url: string; body: string } {
  const url = /(http:\/\/\S+)/.exec(line)?.[1] ?? '';
  const body = /-d '([^']*)'/.exec(line)?.[1] ?? '';
  return { url, body };
}

describe('npm run dev: the mini program capability lines', () => {
  it('each line works against the dev hub and its simulator, in order', async () => {
    const { dev, banner } = await startDevBanner(devEnv('silent'));
    try {
      const lines = banner().filter((l) =>
        /__sim\/(phone-codes|subscriptions)|demo-mp\/(?!token|login|decrypt)/.test(l),
      );
      expect(lines).toHaveLength(6);
      let code = '';
      const statuses: number[] = [];
      for (const line of lines) {
        const { url, body } = parse(line);
        const headers: Record<string, string> = line.includes('Authorization')
          ? { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' }
          : {};
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: body.replace('<the code above>', code),
        });
        statuses.push(res.status);
        if (url.endsWith('/phone-codes')) code = ((await res.json()) as { code: string }).code;
        else if (url.endsWith('/wxacode')) {
          expect(res.headers.get('content-type')).toBe('image/png');
          await res.arrayBuffer();
        } else await res.text();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    } finally {
      await dev.stop();
    }
  });
});
