import { describe, expect, it } from 'vitest';
import { assertNotMinting, proxySegments, upstreamPath } from './proxy-path';

describe('proxy paths', () => {
  it('percent-encodes ; = and , so no server reads them as path parameters', () => {
    const segments = proxySegments('cgi-bin/token;x=1,2');
    expect(() => assertNotMinting(segments, 'oa')).not.toThrow();
    expect(upstreamPath(segments)).toBe('cgi-bin/token%3Bx%3D1%2C2');
    expect(upstreamPath(proxySegments('cgi-bin/a$b&c+d:e@f'))).toBe('cgi-bin/a$b&c+d:e@f');
  });
});
