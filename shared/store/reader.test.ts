import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../http/log';
import type { NewCallbackMessage } from './index';
import { READER_METHODS } from './reader';
import { type Relay, startRelay } from './replica-testing';
import { type OpenedStore, openTestStore, testTargets, uniqueName } from './testing';

const ROOT = resolve(import.meta.dirname, '../..');

/** A stored push of `app` (the reads below look for it). */
function message(app: string, receivedAt: number): NewCallbackMessage {
  return {
    app,
    dedupKey: uniqueName('d'),
    receivedAt,
    format: 'xml',
    encrypted: false,
    raw: '<xml/>',
    parsed: {},
    msgType: 'text',
  };
}

/** A collecting logger: every line, as parsed JSON. */
function collector() {
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  const log = createLogger('info', {
    write: (l: string) => {
      text.push(l);
      lines.push(JSON.parse(l) as Record<string, unknown>);
    },
  });
  const about = (word: string) => lines.filter((l) => String(l.msg).includes(word));
  return { log, lines, text, about };
}

/** Every `.ts` file (tests aside) under `dir`, relative to the repository. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(ROOT, dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(relative(ROOT, path)));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(relative(ROOT, path));
  }
  return out;
}

describe('the reader is the only way to the replica, and only for reads that may lag', () => {
  it('offers lists, searches and counts only: nothing a credential, callback or payment decides on', () => {
    const reads = /^(list|search|count|totals$|byId$|forSource$)/;
    for (const methods of Object.values(READER_METHODS)) {
      for (const m of methods) expect(m).toMatch(reads);
    }
    expect(READER_METHODS).not.toHaveProperty('oauth');
    expect(READER_METHODS).not.toHaveProperty('loginSessions');
    expect(READER_METHODS).not.toHaveProperty('signingKeys');
  });

  it('is never named by the code of the credential, callback and pay paths', () => {
    const paths = [
      'shared/tokens',
      'shared/callbacks',
      'shared/pay',
      'shared/component',
      'shared/oauth',
      'shared/sessions',
      'shared/wechat',
      'shared/apps',
      'functions/token',
      'functions/proxy',
      'functions/wx-callback',
      'functions/refresh',
      'functions/pay',
      'functions/pay-notify',
    ];
    const files = paths.flatMap(sources);
    expect(files.length).toBeGreaterThan(50);
    const naming = files.filter((f) => /\.reader\b/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(naming).toEqual([]);
  });
});

describe.each(testTargets())('the reader without a replica on $name', (target) => {
  let opened: OpenedStore;
  beforeAll(async () => {
    opened = await openTestStore(target);
  });
  afterAll(async () => {
    await opened.store.close();
  });

  it('reads the primary: a write is seen at once, and the reader has its methods only', async () => {
    const { store } = opened;
    const app = uniqueName('app');
    await store.messages.insert(message(app, 1_000), [], 1_000);
    const found = await store.reader.messages.search({ app, limit: 10 });
    expect(found.map((m) => m.app)).toEqual([app]);
    expect(Object.keys(store.reader.credentials)).toEqual(['list']);
    expect(Object.keys(store.reader).sort()).toEqual(Object.keys(READER_METHODS).sort());
  });
});

const mysql = testTargets().filter((t) => t.config.dialect === 'mysql');

describe.each(mysql)('a read replica that fails, on $name', (target) => {
  const clock = { t: 1_700_000_000_000, now: () => clock.t };
  let relay: Relay;
  let opened: OpenedStore;
  const logs = collector();
  const app = uniqueName('app');
  beforeAll(async () => {
    if (target.config.dialect !== 'mysql') throw new Error('a MySQL target');
    // The "replica" is the primary's own database reached through a relay the test can cut.
    relay = await startRelay(target.config.url);
    const readUrl = new URL(target.config.url);
    readUrl.hostname = '127.0.0.1';
    readUrl.port = String(relay.port);
    opened = await openTestStore(
      { name: 'mysql', config: { ...target.config, readUrl: readUrl.toString() } },
      { log: logs.log, clock },
    );
    await opened.store.messages.insert(message(app, 1_000), [], 1_000);
  });
  afterAll(async () => {
    await opened.store.close();
    await relay.close();
  });

  const search = () => opened.store.reader.messages.search({ app, limit: 10 });

  it('reads through the replica while it answers', async () => {
    const before = relay.connections;
    expect((await search()).map((m) => m.app)).toEqual([app]);
    expect(relay.connections).toBeGreaterThan(before);
    expect(logs.lines).toEqual([]);
  });

  it('falls back to the primary when it goes down, says so once, and leaves it alone a while', async () => {
    await relay.cut();
    // Sequential and concurrent reads: every one answers, one line for the outage.
    expect((await search()).map((m) => m.app)).toEqual([app]);
    const many = await Promise.all(Array.from({ length: 5 }, () => search()));
    for (const rows of many) expect(rows.map((m) => m.app)).toEqual([app]);
    expect(await opened.store.reader.messages.countReceived(0, 2_000)).toBeGreaterThanOrEqual(1);
    const down = logs.about('read replica');
    expect(down).toHaveLength(1);
    // Its pooled connection was cut (or a new one refused): either way, a code and no more.
    expect(down[0]).toMatchObject({ level: 'warn', retrySeconds: 30 });
    expect(down[0]?.code).toMatch(/^(PROTOCOL_CONNECTION_LOST|ECONNREFUSED|ECONNRESET)$/);
    expect(String(down[0]?.msg)).toContain('go to the primary');

    // Back up, but inside the retry window: still the primary, no attempt on the replica.
    await relay.restore();
    const before = relay.connections;
    clock.t += 10_000;
    expect((await search()).map((m) => m.app)).toEqual([app]);
    expect(relay.connections).toBe(before);

    // After it, the replica is tried again, answers, and one line says it is back.
    clock.t += 30_000;
    expect((await search()).map((m) => m.app)).toEqual([app]);
    expect(relay.connections).toBeGreaterThan(before);
    expect(logs.about('read replica')).toHaveLength(2);
    expect(logs.about('is back')[0]).toMatchObject({ level: 'info', downSeconds: 40 });
    expect((await search()).map((m) => m.app)).toEqual([app]);
    expect(logs.about('read replica')).toHaveLength(2);
  });

  it('falls back when the replica goes silent (connections open, no answer)', async () => {
    if (target.config.dialect !== 'mysql') throw new Error('a MySQL target');
    const silent = await startRelay(target.config.url);
    const lines = collector();
    const readUrl = new URL(target.config.url);
    readUrl.hostname = '127.0.0.1';
    readUrl.port = String(silent.port);
    const other = await openTestStore(
      { name: 'mysql', config: { ...target.config, readUrl: readUrl.toString() } },
      { log: lines.log, clock, replicaTimeoutMs: 300 },
    );
    try {
      // A pooled connection to the replica, then the host stops answering.
      expect((await other.store.reader.messages.search({ app, limit: 10 })).length).toBeGreaterThan(
        0,
      );
      silent.freeze();
      expect((await other.store.reader.messages.search({ app, limit: 10 })).length).toBeGreaterThan(
        0,
      );
      expect(lines.about('read replica')).toHaveLength(1);
      expect(lines.about('read replica')[0]).toMatchObject({ level: 'warn', code: 'TIMEOUT' });
    } finally {
      await silent.close();
      await other.store.close();
    }
  });

  it('falls back when the replica answers with an error, and never logs its URL or password', async () => {
    if (target.config.dialect !== 'mysql') throw new Error('a MySQL target');
    const lines = collector();
    // A replica without this database (e.g. not yet replicated): every read there errors.
    const readUrl = new URL(target.config.url);
    readUrl.pathname = `/${uniqueName('missing').replace(/-/g, '_')}`;
    const other = await openTestStore(
      { name: 'mysql', config: { ...target.config, readUrl: readUrl.toString() } },
      { log: lines.log, clock },
    );
    try {
      await other.store.messages.insert(message(app, 1_500), [], 1_500);
      expect(await other.store.reader.messages.search({ app, limit: 10 })).toHaveLength(2);
      // Answered by the primary instead: the same count.
      expect(await other.store.reader.outbox.countStatus('dead')).toBe(
        await other.store.outbox.countStatus('dead'),
      );
      expect(lines.about('read replica')).toHaveLength(1);
      expect(lines.about('read replica')[0]).toMatchObject({ code: 'ER_BAD_DB_ERROR' });
    } finally {
      await other.store.close();
    }
    const all = [...lines.text, ...logs.text].join('\n');
    const url = new URL(target.config.url);
    expect(all).not.toContain(`${url.hostname}:${url.port}`);
    expect(all).not.toContain(String(relay.port));
    if (url.password !== '') expect(all).not.toContain(`:${url.password}@`);
    expect(all).not.toContain('mysql://');
  });
});
