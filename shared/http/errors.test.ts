import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

/** Every non-test TypeScript file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const EXPORTED_ERROR = /export class (\w+) extends \w*Error \{\n([\s\S]*?)\n\}/g;

describe('error classes across the files of a bundle', () => {
  // An SCF package puts some modules into more than one of its files (index.js, the dialect's
  // file, a lazily loaded file): an error thrown by one copy of a class is checked with
  // `instanceof` against another (a replayed push's SignatureReplayError, thrown by the store,
  // was answered 503 instead of 401).
  it('brands every exported error class of shared/, so that instanceof answers for every copy', () => {
    const unbranded: string[] = [];
    let found = 0;
    for (const file of sources('shared')) {
      const text = readFileSync(file, 'utf8');
      for (const [, name, body] of text.matchAll(EXPORTED_ERROR)) {
        found += 1;
        const brand = new RegExp(`const (\\w+) = Symbol\\.for\\('wxhub\\.${name}'\\);`).exec(
          text,
        )?.[1];
        const ok =
          brand !== undefined &&
          body?.includes(`return isBranded(value, ${brand});`) === true &&
          body.includes(`readonly [${brand}] = true;`);
        if (!ok) unbranded.push(`${relative('.', file)}: ${name}`);
      }
    }
    expect(found).toBeGreaterThanOrEqual(11);
    expect(unbranded).toEqual([]);
  });

  it('recognises an error made by another copy of its module', async () => {
    const first = {
      store: await import('../store/types'),
      box: await import('../crypto/secret-box'),
      http: await import('./errors'),
    };
    vi.resetModules();
    const second = {
      store: await import('../store/types'),
      box: await import('../crypto/secret-box'),
      http: await import('./errors'),
    };
    expect(second.store.SignatureReplayError).not.toBe(first.store.SignatureReplayError);
    expect(new first.store.SignatureReplayError()).toBeInstanceOf(
      second.store.SignatureReplayError,
    );
    expect(new first.box.SecretBoxError('x', 'unknown-key')).toBeInstanceOf(
      second.box.SecretBoxError,
    );
    expect(new first.http.AppError('NOT_FOUND', 'x')).toBeInstanceOf(second.http.AppError);
    // And only those: another error is none of them.
    expect(new first.box.SecretBoxError('x')).not.toBeInstanceOf(second.store.SignatureReplayError);
    expect(new Error('x')).not.toBeInstanceOf(second.box.SecretBoxError);
  });

  it('tells a subclass of a branded class from its base', async () => {
    const { AppError } = await import('./errors');
    const { SendSmsError } = await import('../sms/send-sms');
    expect(new AppError('UNAVAILABLE', 'x')).not.toBeInstanceOf(SendSmsError);
    const sms = new SendSmsError('x', 'UNAVAILABLE', 'maybe');
    expect(sms).toBeInstanceOf(SendSmsError);
    expect(sms).toBeInstanceOf(AppError);
    const { WechatTransportError } = await import('../wechat/http');
    const { PlatformTransportError } = await import('../delivery/http');
    expect(new WechatTransportError('api', 'x')).not.toBeInstanceOf(PlatformTransportError);
    expect(new PlatformTransportError('Shansong', 'api', 'x')).toBeInstanceOf(WechatTransportError);
  });
});
