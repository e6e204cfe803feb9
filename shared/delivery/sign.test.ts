import { describe, expect, it } from 'vitest';
import { fnSign } from '../../dev/simulator/fengniao';
import { ssSign } from '../../dev/simulator/shansong';
import { fengniaoSignature, sameSignature, shansongSign } from './sign';

/**
 * Worked examples. Neither platform publishes one that could be read, so each expected value was
 * computed outside this code base, with coreutils (`printf '%s' '<plaintext>' | sha256sum` /
 * `md5sum`), over the plaintext as two public implementations build it:
 * - Fengniao: MQEnergy/delivery-core `core/fn/v3/base.go` and CharLemAznable/varys
 *   `fengniao/app` — secret, then the sorted `k=v` pairs joined with `&` (varys's refresh plaintext
 *   drops the `=` after `refresh_token`: that bug is not followed);
 * - Shansong: LqsShansong's PHP SDK (`strtoupper(md5($secret . $k1 . $v1 …))`) and ShopeX's Java
 *   client — secret, then key+value of the sorted fields, no separators, uppercase hex.
 * The simulator's own signers (written separately) are checked against the same values.
 */

const FN_SECRET = 'fn-secret-123';
const SS_SECRET = 'ss-secret';

interface Example {
  what: string;
  params: Record<string, string>;
  expected: string;
}

const FENGNIAO: Example[] = [
  {
    what: 'code → token',
    params: {
      grant_type: 'authorization_code',
      code: 'abc123',
      app_id: '6236',
      merchant_id: '51659',
      timestamp: '1700000000000',
    },
    expected: '716a3e9151803b010c6390ebaac4e55a6c07a27a74f2a3f727c1642081d90ca1',
  },
  {
    what: 'refresh (with the "=" varys drops)',
    params: {
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      app_id: '6236',
      merchant_id: '51659',
      timestamp: '1700000000000',
    },
    expected: 'a30525f04653a8eecb45dd2e6e9a75882e390e83feaa17459044aa00a9023189',
  },
  {
    what: 'business call: business_data signed as the exact string (1.50 kept)',
    params: {
      app_id: '6236',
      merchant_id: '51659',
      timestamp: '1700000000000',
      version: '1.0',
      access_token: 'tok-1',
      business_data: '{"partner_order_code":"A1","price":1.50}',
    },
    expected: 'b1bb1fbfb6fb2df0323898bc4623eb6feabd03369fd6a784b800e6d429b04fa0',
  },
  {
    what: 'callback (64-bit id as written)',
    params: {
      app_id: '6236',
      timestamp: '1700000000123',
      business_data:
        '{"callback_business_type":"orderStatusNotify","param":{"order_id":300000123456789012}}',
    },
    expected: '3e566624eca0d8fca604cbc145aa96c977130e374a44623cd999177956443646',
  },
];

const SHANSONG: Example[] = [
  {
    what: 'developer family (accessToken, data with UTF-8)',
    params: {
      clientId: 'ss123',
      accessToken: 'tok-9',
      timestamp: '1700000000000',
      data: '{"cityName":"北京市","orderNo":"A1"}',
    },
    expected: '745EF1CFB92D6FEB1BBE0FBDC95E4CE3',
  },
  {
    what: 'file family (clientId and timestamp only)',
    params: { clientId: 'ss123', timestamp: '1700000000000' },
    expected: '5D8B9D95805D2032DC1A53CCEFA11A92',
  },
  {
    what: 'refresh (no accessToken)',
    params: { clientId: 'ss123', timestamp: '1700000000000', data: '{"refreshToken":"rt-9"}' },
    expected: '0322EBA078655FF8C30A243678814AEA',
  },
  {
    what: 'merchants family (shopId)',
    params: { clientId: 'ss123', shopId: '20000', timestamp: '1700000000000', data: '{"a":1}' },
    expected: '3811683A81E56E4D539EFC6D68AD0551',
  },
];

describe('Fengniao signature', () => {
  it.each(FENGNIAO)('$what matches the worked example', ({ params, expected }) => {
    expect(fengniaoSignature(FN_SECRET, params)).toBe(expected);
    expect(fnSign(FN_SECRET, params)).toBe(expected);
  });

  it('leaves out signature and empty values, whatever the key order given', () => {
    const [first] = FENGNIAO;
    if (first === undefined) throw new Error('no example');
    const shuffled = Object.fromEntries(Object.entries(first.params).reverse());
    const withExtras = { ...shuffled, signature: 'x', dev_id: '', scope: undefined };
    expect(fengniaoSignature(FN_SECRET, withExtras)).toBe(first.expected);
  });

  it('changes when business_data is re-serialised (the exact string is signed)', () => {
    const call = FENGNIAO[2];
    if (call === undefined) throw new Error('no example');
    const again = JSON.stringify(JSON.parse(call.params.business_data ?? '{}'));
    expect(again).not.toBe(call.params.business_data);
    expect(fengniaoSignature(FN_SECRET, { ...call.params, business_data: again })).not.toBe(
      call.expected,
    );
  });
});

describe('Shansong sign', () => {
  it.each(SHANSONG)('$what matches the worked example', ({ params, expected }) => {
    expect(shansongSign(SS_SECRET, params)).toBe(expected);
    expect(ssSign(SS_SECRET, params)).toBe(expected);
  });

  it('leaves out sign and empty values; upper case', () => {
    const [first] = SHANSONG;
    if (first === undefined) throw new Error('no example');
    const got = shansongSign(SS_SECRET, { ...first.params, sign: 'X', shopId: '' });
    expect(got).toBe(first.expected);
    expect(got).toMatch(/^[0-9A-F]{32}$/);
  });
});

describe('sameSignature', () => {
  it('is true for the same text only', () => {
    expect(sameSignature('abc', 'abc')).toBe(true);
    expect(sameSignature('abc', 'abd')).toBe(false);
    expect(sameSignature('abc', 'abcd')).toBe(false);
  });
});
