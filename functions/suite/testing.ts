import type { AppConfig } from '../../shared/config';
import { uniqueName } from '../../shared/store/testing';

/** The AES key of the tests' suites. */
export const SUITE_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

let serial = 0;

/** A WeCom suite app for a test (unique name, suite id and provider corpid; `prefix` names it). */
export function testSuiteApp(prefix: string, over: Partial<AppConfig> = {}): AppConfig {
  const name = uniqueName(prefix);
  serial += 1;
  return {
    name,
    kind: 'wecom-suite',
    appId: `ww${prefix}${Date.now().toString(36)}${serial}`,
    appSecret: `suite-secret-${name}`,
    token: 'SuiteToken123',
    encodingAesKey: SUITE_AES_KEY,
    providerCorpId: `wwprovider${serial}`,
    tokenMode: 'classic',
    forward: [],
    ...over,
  };
}
