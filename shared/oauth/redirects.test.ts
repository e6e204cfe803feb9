import { describe, expect, it } from 'vitest';
import { allowedRedirect, redirectEntryProblem } from './redirects';

const ALLOWED = ['https://shop.example.com/oauth/', 'https://shop.example.com/done'];

describe('the OAuth redirect allow-list', () => {
  it('allows a path below an entry ending in / and exactly the path of another entry', () => {
    for (const ok of [
      'https://shop.example.com/oauth/',
      'https://shop.example.com/oauth/back?next=%2Fcart&x=1',
      'https://shop.example.com:443/oauth/a/b',
      'https://shop.example.com/done',
      'https://shop.example.com/done?from=wx',
      'https://SHOP.example.com/done',
    ]) {
      expect(allowedRedirect(ALLOWED, ok)?.href, ok).toBe(new URL(ok).href);
    }
  });

  it('refuses another scheme, host, port or path, and tricks with the URL', () => {
    for (const bad of [
      'http://shop.example.com/done',
      'https://shop.example.com.evil.com/done',
      'https://evil.com/shop.example.com/done',
      'https://shop.example.com:8443/done',
      'https://shop.example.com/done/more',
      'https://shop.example.com/donex',
      'https://shop.example.com/oauth',
      'https://shop.example.com/oauthx/a',
      'https://shop.example.com/oauth/../admin',
      'https://shop.example.com/oauth/%2e%2e/admin',
      'https://shop.example.com/oauth/..%2fadmin',
      'https://shop.example.com/oauth/..%5Cadmin',
      'https://shop.example.com/oauth\\..\\admin',
      'https://evil.com@shop.example.com/done',
      'https://shop.example.com/done#frag',
      '//shop.example.com/done',
      '/done',
      'javascript:alert(1)//shop.example.com/done',
      '',
    ]) {
      expect(allowedRedirect(ALLOWED, bad), bad).toBeUndefined();
    }
  });

  it('judges entries: https (http only for localhost), no query, fragment, user info or *', () => {
    expect(redirectEntryProblem('https://shop.example.com/oauth/')).toBeUndefined();
    expect(redirectEntryProblem('http://127.0.0.1:5173/cb')).toBeUndefined();
    for (const bad of [
      'http://shop.example.com/',
      'https://shop.example.com/?a=1',
      'https://shop.example.com/#a',
      'https://*.example.com/',
      'https://u@shop.example.com/',
      'shop.example.com',
    ]) {
      expect(redirectEntryProblem(bad), bad).toBeDefined();
    }
  });
});
