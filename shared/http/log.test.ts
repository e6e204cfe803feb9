import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AccessFields,
  createAccessLog,
  createLogger,
  cutForLog,
  isoTime,
  LOGGED_TEXT_MAX,
  type Logger,
  maskPhone,
} from './log';

function capture(level: Parameters<typeof createLogger>[0] = 'debug') {
  const lines: string[] = [];
  return { lines, log: createLogger(level, { write: (s: string) => void lines.push(s) }) };
}

const NOW = 1_763_700_000_007;

describe('log timestamps', () => {
  it('formats like pino isoTime at every millisecond boundary', () => {
    for (const t of [
      0, 1, 9, 10, 99, 100, 999, 1_000, 1_763_700_000_000, 1_763_700_000_007, 1_763_700_059_999,
      1_763_700_060_000,
    ]) {
      expect(isoTime(t)).toBe(`,"time":"${new Date(t).toISOString()}"`);
    }
  });
});

describe('logger', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // The settings wxhub used with pino: log pipelines built for those lines keep working.
  const SECRETS = ['appSecret', 'secret', 'accessToken', 'access_token', 'ticket', 'token'];
  const MORE = ['refreshToken', 'password', 'apiV3Key', 'privateKey', 'encodingAesKey'];
  const LAST = ['authorization', 'sessionKey', 'session_key', 'value'];
  const FIELDS = [...SECRETS, ...MORE, ...LAST];
  const pinoLike = (lines: string[]) =>
    pino(
      {
        level: 'debug',
        base: { service: 'wxhub' },
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: {
          paths: FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
          censor: '[redacted]',
        },
        formatters: { level: (label: string) => ({ level: label }) },
      },
      { write: (s: string) => void lines.push(s) },
    );

  it('writes the lines pino wrote with the same settings, in the base logger and children', () => {
    const calls: [
      keyof Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>,
      object | string,
      string?,
    ][] = [
      ['info', 'plain message'],
      ['debug', { app: 'oa', n: 3, ok: true, none: null }, 'with fields'],
      ['warn', { skipped: undefined, list: [1, 'two', { three: 3 }] }],
      ['error', { path: '/wx/"quoted"\\back\nline\u0001ctl', cjk: '应用/токен/\ud800lone' }, 'é'],
      ['info', { accessToken: 'TOKEN-1', app: { appSecret: 'S-1', name: 'oa' } }, 'redacted'],
      ['info', { a: { b: { token: 'T-3', keep: 1 } }, authorization: 'Bearer K' }, 'depth 3'],
      ['warn', { value: 'v', password: 'p', nested: { sessionKey: 'k', apiV3Key: 'x' } }],
      ['info', { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, date: new Date(NOW) }, 'odd'],
    ];
    const ours = capture();
    const theirs: string[] = [];
    const reference = pinoLike(theirs);
    const pairs: [Logger, pino.Logger][] = [
      [ours.log, reference],
      [ours.log.child({ fn: 'token', n: 2 }), reference.child({ fn: 'token', n: 2 })],
      [
        ours.log.child({ fn: 'token' }).child({ app: 'oa', q: '"' }),
        reference.child({ fn: 'token' }).child({ app: 'oa', q: '"' }),
      ],
    ];
    for (const [mine, other] of pairs) {
      for (const [level, first, msg] of calls) {
        ours.lines.length = 0;
        theirs.length = 0;
        if (typeof first === 'string') {
          mine[level](first);
          other[level](first);
        } else {
          mine[level](first, msg);
          other[level](first, msg);
        }
        expect(ours.lines).toHaveLength(1);
        expect(ours.lines[0]).toBe(theirs[0]);
      }
    }
  });

  it('redacts secret fields at any depth, inside arrays too', () => {
    const { lines, log } = capture();
    log.info({ a: { b: { c: { d: { appSecret: 'DEEP-1' } } } }, list: [{ ticket: 'T-9' }] }, 'x');
    const line = lines.join('');
    for (const s of ['DEEP-1', 'T-9']) expect(line).not.toContain(s);
    expect(JSON.parse(line)).toMatchObject({
      a: { b: { c: { d: { appSecret: '[redacted]' } } } },
      list: [{ ticket: '[redacted]' }],
    });
  });

  it('masks the middle of phone numbers in phone fields at any depth', () => {
    const { lines, log } = capture();
    log.info({ phone: '13812345678', user: { phoneNumber: '+8613900001111' } }, 'x');
    log.info({ purePhoneNumber: '2025550123', phone: 13700001234 }, 'y');
    const text = lines.join('');
    for (const s of ['13812345678', '13900001111', '2025550123', '13700001234']) {
      expect(text).not.toContain(s);
    }
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      phone: '138****5678',
      user: { phoneNumber: '+86139****1111' },
    });
    expect(maskPhone('2025550123')).toBe('202****123');
  });

  it('always writes a line: cycles, bigints and errors do not throw', () => {
    const { lines, log } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    const err = new TypeError('bad thing');
    log.error({ cyclic, twice: [shared, shared], big: 12345678901234567890n, err }, 'odd input');
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0] ?? '');
    expect(parsed).toMatchObject({
      cyclic: { name: 'loop', self: '[Circular]' },
      twice: [{ x: 1 }, { x: 1 }],
      big: '12345678901234567890',
      err: { type: 'TypeError', message: 'bad thing' },
      msg: 'odd input',
    });
    expect(parsed.err.stack).toContain('bad thing');
  });

  it('drops lines below the level, honours a level changed at run time, refuses unknown ones', () => {
    const { lines, log } = capture('warn');
    log.info('no');
    log.debug({ a: 1 }, 'no');
    log.warn('yes');
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn']);
    expect(log.isLevelEnabled('info')).toBe(false);
    log.level = 'debug';
    log.debug('now');
    expect(lines).toHaveLength(2);
    expect(log.level).toBe('debug');
    log.level = 'silent';
    log.error('never');
    expect(lines).toHaveLength(2);
    expect(() => {
      log.level = 'loud' as 'info';
    }).toThrow(/unknown log level loud/);
    expect(() => createLogger('chatty' as 'info')).toThrow(/unknown log level chatty/);
    expect(log.level).toBe('silent');
  });

  it('gives a child the parent level at creation and its own level after', () => {
    const { lines, log } = capture('info');
    const child = log.child({ fn: 'pay' });
    child.level = 'error';
    log.info('parent');
    child.info('child');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'parent', service: 'wxhub' });
  });
});

describe('access line', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const fields = (over: Partial<AccessFields> = {}): AccessFields => ({
    requestId: 'abc-123',
    method: 'GET',
    path: '/v1/apps/oa/token',
    status: 200,
    ms: 0.4,
    ...over,
  });

  it('writes the bytes log.info writes for the same fields, in the base logger and a child', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    const tricky = [
      fields(),
      fields({ path: '/wx/"quoted"\\back\nline\u0001ctl', status: 404, ms: 12 }),
      fields({ path: '/v1/应用/токен/\ud800lone', method: 'PROPFIND', status: 401, ms: 1234.5 }),
      fields({ requestId: '0f0e-…', status: 500, ms: 0 }),
    ];
    const { lines, log } = capture('info');
    for (const logger of [log, log.child({ fn: 'token', n: 2 })]) {
      const access = createAccessLog(logger);
      for (const f of tricky) {
        lines.length = 0;
        access(f);
        logger.info(f, 'request');
        expect(lines).toHaveLength(2);
        expect(lines[0]).toBe(lines[1]);
        expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'request', ...f });
      }
    }
  });

  it('cuts a long path to LOGGED_TEXT_MAX characters and says how many were cut', () => {
    const long = `/wx/${'x'.repeat(8_192)}`;
    const cut = `${long.slice(0, LOGGED_TEXT_MAX)}…[+${long.length - LOGGED_TEXT_MAX}]`;
    expect(cutForLog(long)).toBe(cut);
    expect(cutForLog('/wx/oa/callback')).toBe('/wx/oa/callback');
    const { lines, log } = capture('info');
    createAccessLog(log)(fields({ path: long }));
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ path: cut });
    const seen: object[] = [];
    const other: Logger = {
      level: 'info',
      isLevelEnabled: () => true,
      debug: () => undefined,
      info: (first: object | string) => void seen.push(typeof first === 'string' ? {} : first),
      warn: () => undefined,
      error: () => undefined,
      child: () => other,
    };
    createAccessLog(other)(fields({ path: long }));
    expect(seen).toEqual([fields({ path: cut })]);
  });

  it('honours the level, also when it changes at run time', () => {
    const { lines, log } = capture('info');
    const access = createAccessLog(log);
    log.level = 'warn';
    access(fields());
    expect(lines).toHaveLength(0);
    log.level = 'info';
    access(fields());
    expect(lines).toHaveLength(1);
    const { lines: silentLines, log: silent } = capture('info');
    silent.level = 'silent';
    createAccessLog(silent)(fields());
    expect(silentLines).toHaveLength(0);
  });

  it('goes through log.info for a logger made some other way', () => {
    const seen: [object | string, string | undefined][] = [];
    const record = (first: object | string, msg?: string) => void seen.push([first, msg]);
    const other: Logger = {
      level: 'info',
      isLevelEnabled: () => true,
      debug: record,
      info: record,
      warn: record,
      error: record,
      child: () => other,
    };
    createAccessLog(other)(fields());
    expect(seen).toEqual([[fields(), 'request']]);
  });
});
