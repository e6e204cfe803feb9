import { describe, expect, it } from 'vitest';
import { hashPassword, verifyNothing, verifyPassword } from './password';

describe('admin passwords (scrypt)', () => {
  it('verifies the password it hashed and refuses another', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
  });

  it('salts each hash', async () => {
    expect(await hashPassword('same password 1')).not.toBe(await hashPassword('same password 1'));
  });

  it('never matches a malformed hash or absurd parameters', async () => {
    const hash = await hashPassword('some password 12');
    const parts = hash.split('$');
    expect(await verifyPassword('some password 12', 'plain')).toBe(false);
    expect(await verifyPassword('some password 12', hash.slice(0, -2))).toBe(false);
    const huge = ['scrypt', 2 ** 30, ...parts.slice(2)].join('$');
    expect(await verifyPassword('some password 12', huge)).toBe(false);
  });

  it('answers false for an unknown user after the same work', async () => {
    expect(await verifyNothing('anything at all')).toBe(false);
  });
});
