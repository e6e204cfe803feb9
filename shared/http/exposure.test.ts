import { describe, expect, it } from 'vitest';
import { type Exposure, isExposed } from './exposure';

const served = (path: string) =>
  (['all', 'public', 'internal'] as Exposure[]).filter((e) => isExposed(path, e));

describe('isExposed', () => {
  it('classifies WeChat-, Pay- and browser-facing paths as public', () => {
    for (const path of [
      '/wx/app1/callback',
      '/pay/m1/notify',
      '/oauth/app1/callback',
      '/admin/component/authorize',
      // The console's own address: redirected to /admin/ wherever the console is served.
      '/admin',
      '/admin/',
      '/admin/assets/console.0123456789ab.js',
      '/wx/comp1/component/authorize',
      '/wx/comp1/component/authorized',
      '/fengniao/notify',
      '/shansong/notify',
      '/.well-known/x',
    ]) {
      expect(served(path), path).toEqual(['all', 'public']);
    }
  });

  it('classifies /v1/…, /metrics and /openapi.json as internal', () => {
    for (const path of [
      '/v1',
      '/v1/apps/a/token',
      '/v1/pay/m1/jsapi',
      '/v1/components/comp1/auth-url',
      '/metrics',
      '/openapi.json',
    ]) {
      expect(served(path), path).toEqual(['all', 'internal']);
    }
  });

  it('serves /healthz everywhere', () => {
    expect(served('/healthz')).toEqual(['all', 'public', 'internal']);
  });

  it('serves a path of neither list, or one merely resembling them, only with all', () => {
    for (const path of [
      '/',
      '/wx',
      '/wxx/a',
      '/v1x/apps',
      '/V1/apps/a/token',
      '//v1/refresh',
      '/metrics/x',
      '/openapi.json.bak',
      '/healthz/x',
      '/pay',
    ]) {
      expect(served(path), path).toEqual(['all']);
    }
  });
});
