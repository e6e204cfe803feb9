import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../shared/http/log';
import { DEMO_CORP } from './demo-suite';
import { runPush } from './push';
import {
  DEMO_AUTHORIZERS,
  DEMO_MERCHANT,
  DEV_API_KEY,
  DEV_DATABASE_URL,
  databaseLines,
  devAdminPassword,
  devDatabaseUrl,
  startDev,
} from './start';
import { devEnv, startDevBanner } from './testing';

const ROOT = resolve(import.meta.dirname, '..');

describe('npm run dev', () => {
  it('runs the pay demo of its banner after the demo has been up 6 minutes', async () => {
    let now = Date.now();
    const banner: string[] = [];
    const dev = await startDev(devEnv(), {
      now: () => now,
      write: (t) => void banner.push(t),
      log: createLogger('silent'),
    });
    try {
      const base = dev.hub.server.url;
      const sim = dev.sim.url;
      expect(banner.join('')).toContain(`/pay/${DEMO_MERCHANT}/notify`);
      const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      now += 6 * 60_000;
      const order = await post(
        `${base}/v1/pay/${DEMO_MERCHANT}/jsapi`,
        {
          description: 'demo',
          out_trade_no: 'DEMO001',
          amount: { total: 1 },
          payer: { openid: 'o-demo' },
        },
        { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
      );
      expect(order.status).toBe(200);
      const mchId = /"mchId":"(\d+)"/.exec(banner.join(''))?.[1] ?? '';
      expect(mchId).not.toBe('');
      expect(
        (await post(`${sim}/__sim/pay/orders/pay`, { mchId, outTradeNo: 'DEMO001' })).status,
      ).toBe(200);
      now += 6 * 60_000;
      const notify = await post(`${sim}/__sim/pay/notify`, {
        url: `${base}/pay/${DEMO_MERCHANT}/notify`,
        mchId,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: 'DEMO001',
      });
      expect(await notify.json()).toEqual({ status: 204, body: '' });
    } finally {
      await dev.stop();
    }
  });

  it('delivers the pushes of its banner to the demo target, which logs them and replies', async () => {
    const out: string[] = [];
    const write = (t: string) => void out.push(t);
    const dev = await startDev(devEnv(), { write, log: createLogger('silent') });
    try {
      const base = dev.hub.server.url;
      const banner = out.join('');
      expect(banner).toContain(`forward target on ${dev.target.url}`);
      const lines = banner.split('\n').filter((l) => l.includes('npm run push -- '));
      expect(lines).toEqual([
        `  npm run push -- --app demo-oa --text hi --hub ${base}`,
        `  npm run push -- --app demo-mp --event subscribe --hub ${base}`,
      ]);
      out.length = 0;
      // Run each line as the command would (its arguments after `--`).
      const codes: number[] = [];
      for (const line of lines)
        codes.push(await runPush(line.split(' -- ')[1]?.split(' ') ?? [], {}, write));
      expect(codes).toEqual([0, 0]);
      const text = out.join('');
      expect(text).toContain('/wx/demo-oa/callback (plain mode, plain)');
      expect(text).toContain('<Content><![CDATA[echo: hi]]></Content>');
      expect(text).toContain('/wx/demo-mp/callback (safe mode, encrypted)');
      expect(text).toContain('passive reply, decrypted (MsgSignature ok)');
      expect(text).toContain('<Content><![CDATA[got event subscribe]]></Content>');
      expect(text).toContain(
        '[forward target] demo-oa: text "hi" from o-push-demo → reply "echo: hi"',
      );
      expect(text).toContain(
        '[forward target] demo-mp: event subscribe from o-push-demo → reply "got event subscribe"',
      );
      expect(dev.target.received.map((d) => d.path)).toEqual(['/wx/demo-oa', '/wx/demo-mp']);
    } finally {
      await dev.stop();
    }
  });

  it('serves the health detail and the metrics of its banner lines', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const base = dev.hub.server.url;
      const lines = banner().filter((l) => l.includes('/metrics') || l.includes('detail=1'));
      expect(lines).toEqual([
        `  curl -s -H 'Authorization: Bearer ${DEV_API_KEY}' '${base}/healthz?detail=1'`,
        `  curl -s -H 'Authorization: Bearer ${DEV_API_KEY}' ${base}/metrics`,
      ]);
      const [health, metrics] = await Promise.all(
        lines.map((line) =>
          fetch((line.split(' ').at(-1) ?? '').replace(/^'|'$/g, ''), {
            headers: { authorization: `Bearer ${DEV_API_KEY}` },
          }),
        ),
      );
      expect(health?.status).toBe(200);
      expect(await health?.json()).toMatchObject({ db: 'ok', write: 'ok' });
      expect(metrics?.status).toBe(200);
      expect(await metrics?.text()).toContain('# TYPE wxhub_credential_expiry_seconds gauge');
    } finally {
      await dev.stop();
    }
  });

  it('serves the demo suite token, its corp and the corp token from its banner lines', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const lines = banner().filter((l) => l.includes('/v1/suites/'));
      expect(lines).toHaveLength(5);
      // The exchange of the pushed create_auth code runs after its answer: wait for the corp.
      const corpUrl = lines
        .find((l) => l.endsWith(`/corps/${DEMO_CORP}/token`))
        ?.split(' ')
        .at(-1);
      for (let i = 0; i < 100; i++) {
        const res = await fetch(corpUrl ?? '', {
          headers: { authorization: `Bearer ${DEV_API_KEY}` },
        });
        if (res.status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Run each line as curl would.
      for (const line of lines) {
        const url = (line.split(' ').at(-1) ?? '').replace(/^'|'$/g, '');
        const res = await fetch(url, { headers: { authorization: `Bearer ${DEV_API_KEY}` } });
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        if (url.endsWith('/proxy/cgi-bin/department/simplelist')) {
          expect(body).toMatchObject({ errcode: 0 });
        }
      }
      const corps = await fetch(`${dev.hub.server.url}/v1/suites/demo-suite/corps`, {
        headers: { authorization: `Bearer ${DEV_API_KEY}` },
      });
      expect(await corps.json()).toEqual({
        corps: [expect.objectContaining({ corpId: DEMO_CORP, status: 'authorized' })],
      });
      // The banner's control line pushes a fresh suite ticket, answered `success`.
      const push = banner().find((l) => l.includes('/__sim/wecom-suites/ticket'));
      const body = /-d '(.*)'$/.exec(push ?? '')?.[1] ?? '';
      const pushed = await fetch(`${dev.sim.url}/__sim/wecom-suites/ticket`, {
        method: 'POST',
        body,
      });
      expect(await pushed.json()).toMatchObject({ status: 200, body: 'success' });
    } finally {
      await dev.stop();
    }
  });

  it('serves the demo component token and a demo authorizer token from its banner lines', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const lines = banner().filter((l) => l.includes('/v1/components/'));
      const base = dev.hub.server.url;
      expect(lines).toEqual([
        `  curl -s -H 'Authorization: Bearer ${DEV_API_KEY}' ${base}/v1/components/demo-component/token`,
        `  curl -s -H 'Authorization: Bearer ${DEV_API_KEY}' ${base}/v1/components/demo-component/authorizers/${DEMO_AUTHORIZERS[0]}/token`,
      ]);
      // Run each line as curl would.
      const bodies: { appId: string; accessToken: string }[] = [];
      for (const line of lines) {
        const url = line.split(' ').at(-1) ?? '';
        const res = await fetch(url, { headers: { authorization: `Bearer ${DEV_API_KEY}` } });
        expect(res.status).toBe(200);
        bodies.push((await res.json()) as { appId: string; accessToken: string });
      }
      expect(bodies.map((b) => b.appId)).toEqual(['wxd0e0c0000000000c', DEMO_AUTHORIZERS[0]]);
      expect(bodies[0]?.accessToken).toMatch(/^c_/);
      expect(dev.sim.sim.isTokenValid(bodies[1]?.accessToken ?? '')).toBe(true);
      // Both demo accounts were authorized through the push; the second serves its token too.
      const second = await fetch(
        `${base}/v1/components/demo-component/authorizers/${DEMO_AUTHORIZERS[1]}/token`,
        { headers: { authorization: `Bearer ${DEV_API_KEY}` } },
      );
      expect(second.status).toBe(200);
      expect(dev.sim.sim.calls('/cgi-bin/component/api_query_auth')).toBe(2);
      // The banner's full-network release test passes against the demo component.
      const release = banner().find((l) => l.includes('/__sim/components/release-test'));
      const body = /-d '(.*)'$/.exec(release ?? '')?.[1] ?? '';
      const played = await fetch(`${dev.sim.url}/__sim/components/release-test`, {
        method: 'POST',
        body,
      });
      expect(((await played.json()) as { passed: boolean }).passed).toBe(true);
    } finally {
      await dev.stop();
    }
  });

  it('runs the demo WeCom app from its banner lines: token, proxied call, URL check and a push', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const lines = banner().filter((l) => l.includes('demo-wecom') || l.includes('/__sim/wecom/'));
      expect(lines).toHaveLength(4);
      const get = async (line: string) => {
        const url = (line.split(' ').at(-1) ?? '').replaceAll("'", '');
        return fetch(url, { headers: { authorization: `Bearer ${DEV_API_KEY}` } });
      };
      const token = (await (await get(lines[0] ?? '')).json()) as { appId: string };
      expect(token.appId).toBe('wwd0e0d0000000000d');
      expect(await (await get(lines[1] ?? '')).json()).toMatchObject({ errcode: 0 });
      const post = async (line: string) => {
        const [, path, body] = /(http\S+) -d '(.*)'$/.exec(line) ?? [];
        return (await fetch(path ?? '', { method: 'POST', body })).json();
      };
      expect(await post(lines[2] ?? '')).toMatchObject({ ok: true });
      expect(await post(lines[3] ?? '')).toMatchObject({ status: 200 });
      expect(await dev.hub.deps.store.messages.count('demo-wecom')).toBe(1);
    } finally {
      await dev.stop();
    }
  });

  it('logs the demo Mini Program user in and decrypts its open data from its banner lines', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const lines = banner();
      const line = (part: string) => lines.find((l) => l.includes(part)) ?? '';
      // Run a line as curl would: its URL, its -d body with the placeholders filled in.
      const run = async (l: string, fill: Record<string, string> = {}) => {
        const url = /(http:\/\/\S+)/.exec(l)?.[1] ?? '';
        let body = /-d '(.*)'$/.exec(l)?.[1];
        for (const [k, v] of Object.entries(fill)) body = body?.replace(k, v);
        const res = await fetch(url, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
        });
        expect(res.status, l).toBe(200);
        return (await res.json()) as Record<string, string>;
      };
      const { code = '' } = await run(line('/__sim/login-codes'));
      const login = await run(line('/login -d'), { '<code above>': code });
      expect(login).toMatchObject({ openid: 'o-demo' });
      const data = await run(line('/__sim/open-data'));
      const decrypted = await run(line('/decrypt -d'), {
        '"encryptedData":"<above>"': `"encryptedData":"${data.encryptedData}"`,
        '"iv":"<above>"': `"iv":"${data.iv}"`,
      });
      expect(decrypted).toMatchObject({
        openId: 'o-demo',
        watermark: { appid: 'wxd0e0b0000000000b' },
      });
      const jwks = await run(line('/.well-known/jwks.json'));
      expect(jwks.keys).toHaveLength(1);
    } finally {
      await dev.stop();
    }
  });

  it('runs the Fengniao and Shansong lines of its banner: authorization, token, signed calls, callbacks', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const lines = banner();
      const line = (part: string) => lines.find((l) => l.includes(part)) ?? '';
      const run = async (l: string, fill: Record<string, string> = {}) => {
        const url = /'?(http:\/\/[^\s']+)'?/.exec(l)?.[1] ?? '';
        let body = /-d '(.*)'$/.exec(l)?.[1];
        for (const [k, v] of Object.entries(fill)) body = body?.replace(k, v);
        const res = await fetch(url, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
        });
        expect(res.status, l).toBe(200);
        return (await res.json()) as Record<string, unknown>;
      };
      expect(await run(line('/__sim/fengniao/authorize'))).toMatchObject({ status: 200 });
      expect(await run(line('/v1/fengniao/demo-fengniao/merchants/51659/token'))).toMatchObject({
        merchantId: '51659',
      });
      expect(await run(line('/proxy/preCreateOrder'))).toMatchObject({ code: '200' });
      expect(await run(line('/__sim/fengniao/callback'))).toMatchObject({ status: 200 });

      // The OAuth trip, as curl -L -c -b would (PORT=0: the redirect goes to the hub's real port):
      // the signed link, its cookie, Shansong's page, back to the hub with the cookie.
      const { url: link = '' } = (await run(line('/authorize-url?merchant=demo-shop'))) as {
        url?: string;
      };
      expect(line('<the url above>')).toContain('-c /tmp/wxhub-shansong.cookies');
      const linked = new URL(link);
      const opened = await fetch(`${dev.hub.server.url}${linked.pathname}${linked.search}`, {
        redirect: 'manual',
      });
      const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const page = opened.headers.get('location');
      const back = new URL(
        (await fetch(page ?? '', { redirect: 'manual' })).headers.get('location') ?? '',
      );
      const landed = await fetch(`${dev.hub.server.url}${back.pathname}${back.search}`, {
        headers: { cookie },
      });
      expect(landed.status).toBe(200);
      expect(await run(line('/merchants/demo-shop/token'))).toMatchObject({
        merchant: 'demo-shop',
      });
      expect(await run(line('/proxy/developer/orderCalculate'))).toMatchObject({ status: 200 });
      const { url = '' } = (await run(line('/callback-url'))) as { url?: string };
      const real = `${dev.hub.server.url}${new URL(url).pathname}`;
      expect(
        await run(line('/__sim/shansong/callback'), { '<the callback-url above>': real }),
      ).toMatchObject({ status: 200 });
    } finally {
      await dev.stop();
    }
  });

  it('signs a demo user in with the OAuth lines of its banner and redeems the ticket', async () => {
    const { dev, banner } = await startDevBanner(devEnv());
    try {
      const lines = banner();
      const start = /'(http[^']+\/oauth\/demo-oa\/authorize[^']+)'/.exec(
        lines.find((l) => l.includes('/oauth/demo-oa/authorize')) ?? '',
      )?.[1];
      expect(start).toBeDefined();
      expect(lines.some((l) => l.includes('/v1/oauth/tickets/redeem'))).toBe(true);
      // Followed by hand as curl -L would; with PORT=0 the hub's public URL names port 0, so the
      // callback is sent to the port the hub really has.
      const wechat = (await fetch(start ?? '', { redirect: 'manual' })).headers.get('location');
      const page = await fetch(wechat ?? '', { redirect: 'manual' });
      const back = new URL(page.headers.get('location') ?? '');
      const done = await fetch(`${dev.hub.server.url}${back.pathname}${back.search}`, {
        redirect: 'manual',
      });
      const to = new URL(done.headers.get('location') ?? '');
      expect(`${to.origin}${to.pathname}`).toBe(`${dev.target.url}/oauth/done`);
      const res = await fetch(`${dev.hub.server.url}/v1/oauth/tickets/redeem`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_API_KEY}` },
        body: JSON.stringify({ ticket: to.searchParams.get('wxhub_ticket') }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ app: 'demo-oa', scope: 'snsapi_userinfo' });
    } finally {
      await dev.stop();
    }
  });

  it('makes a dev console admin with a password kept beside its database, printed with the console URL', async () => {
    const env = devEnv();
    const { dev, banner } = await startDevBanner(env);
    let password = '';
    try {
      const base = dev.hub.server.url;
      const line = banner().find((l) => l.startsWith('console: '));
      const m = /^console: (\S+) \(user admin, password (\S+), kept in (\S+)\)$/.exec(line ?? '');
      expect(m?.[1]).toBe(`${base}/admin/`);
      password = m?.[2] ?? '';
      expect(password.length).toBeGreaterThanOrEqual(12);
      const login = await fetch(`${base}/admin/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: base },
        body: JSON.stringify({ user: 'admin', password }),
      });
      expect(login.status).toBe(204);
    } finally {
      await dev.stop();
    }
    // Made once: the next start reads the same password back.
    expect(devAdminPassword(env, env.DATABASE_URL).password).toBe(password);
  });

  it('keeps its own database file unless DATABASE_URL (or MYSQL_ADDRESS) is set', () => {
    expect(DEV_DATABASE_URL).toBe('file:.data/dev.db');
    expect(devDatabaseUrl({})).toBe(DEV_DATABASE_URL);
    expect(devDatabaseUrl({ DATABASE_URL: '' })).toBe(DEV_DATABASE_URL);
    expect(devDatabaseUrl({ DATABASE_URL: 'file:/tmp/x.db' })).toBe('file:/tmp/x.db');
    expect(devDatabaseUrl({ MYSQL_ADDRESS: '10.0.0.1:3306' })).toBeUndefined();
  });

  it('names its database, and the read replica of DATABASE_READ_URL, without passwords', () => {
    expect(databaseLines({ dialect: 'sqlite', path: '.data/dev.db' })).toEqual([
      'database: sqlite (.data/dev.db)',
    ]);
    const lines = databaseLines({
      dialect: 'mysql',
      url: 'mysql://hub:PRIMARY-PW@10.0.0.12:3306/wxhub',
      readUrl: 'mysql://reader:REPLICA-PW@10.0.0.13:3306/wxhub',
    });
    expect(lines).toEqual([
      'database: mysql (MySQL 10.0.0.12:3306/wxhub)',
      "read replica: MySQL 10.0.0.13:3306/wxhub, read by the console's lists and dashboard (falls back to the primary while it fails)",
    ]);
    expect(lines.join('\n')).not.toMatch(/PRIMARY-PW|REPLICA-PW/);
  });

  it('prints no key, secret or app secret it was given in the environment', async () => {
    const secrets = {
      apiKey: `api-key-${randomBytes(12).toString('hex')}`,
      secretKey: randomBytes(32).toString('base64'),
      appSecret: `app-secret-${randomBytes(12).toString('hex')}`,
      callbackToken: `Tok${randomBytes(8).toString('hex')}`,
      adminPassword: `admin-pw-${randomBytes(12).toString('hex')}`,
      aesKey: randomBytes(32)
        .toString('base64')
        .replace(/[^A-Za-z0-9]/g, 'A')
        .slice(0, 43),
    };
    const apps = {
      apps: [
        {
          name: 'env-oa',
          kind: 'official',
          appId: 'wxenv0000000000001',
          appSecret: secrets.appSecret,
          token: secrets.callbackToken,
          encodingAesKey: secrets.aesKey,
          tokenMode: 'classic',
        },
      ],
    };
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['dev/dev.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...devEnv(),
        WXHUB_API_KEYS: `${secrets.apiKey},other-key-${randomBytes(12).toString('hex')}`,
        WXHUB_SECRET_KEY: secrets.secretKey,
        WXHUB_APPS: JSON.stringify(apps),
        WXHUB_ADMIN_USER: 'operator',
        WXHUB_ADMIN_PASSWORD: secrets.adminPassword,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    try {
      // Up when the banner is printed (it comes after the hub's start-up lines).
      await new Promise<void>((done, fail) => {
        const check = setInterval(() => {
          if (out.includes('__sim/counters')) {
            clearInterval(check);
            done();
          } else if (child.exitCode !== null) {
            clearInterval(check);
            fail(new Error(`dev exited ${child.exitCode}: ${out}`));
          }
        }, 50);
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(out).toContain('wxhub dev: hub on');
    for (const [what, value] of Object.entries(secrets))
      expect([what, out.includes(value)]).toEqual([what, false]);
    // The curl lines name the key instead; the console line names the variables.
    expect(out).toContain('Authorization: Bearer $WXHUB_API_KEY');
    expect(out).toContain('(user and password from WXHUB_ADMIN_USER / WXHUB_ADMIN_PASSWORD)');
  }, 30_000);
});
