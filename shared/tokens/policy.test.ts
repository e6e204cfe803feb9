import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { WechatApiError } from '../http/errors';
import { describeRefreshError } from './policy';

describe('describeRefreshError', () => {
  it("keeps a failed query's SQL and parameters out: only the driver's code", () => {
    const sealed = 'wx1.2404b4a3.3sKTCAgppyhDH8jE.DpN-l2JfPuu';
    const cause = Object.assign(new Error('Deadlock found when trying to get lock'), {
      code: 'ER_LOCK_DEADLOCK',
    });
    const err = new DrizzleQueryError('update `credentials` set `value` = ?', [sealed], cause);
    const line = describeRefreshError(err);
    expect(line).toBe('database error (ER_LOCK_DEADLOCK)');
    expect(describeRefreshError(new DrizzleQueryError('select 1', [sealed]))).toBe(
      'database error (see the logs)',
    );
  });

  it("describes WeChat's answer with a hint", () => {
    expect(describeRefreshError(new WechatApiError('/cgi-bin/token', 40013, 'invalid appid'))).toBe(
      'errcode 40013: invalid appid (the appId is wrong)',
    );
  });
});
