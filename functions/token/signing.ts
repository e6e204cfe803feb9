import { requireCosBucket } from '../../shared/apps/signing-entries';
import { signUpload } from '../../shared/cos/upload';
import type { Deps } from '../../shared/platform/deps';
import { type SmsDeps, sendCode, verifyCode } from '../../shared/sms/codes';

/**
 * The answers of `/v1/sms/…` and `/v1/cos/…`. This file is loaded on the first such request
 * (LAZY_FILES `signing`), so the token function's cold start never parses the SMS and COS code.
 */
export function createSigning(deps: Deps) {
  const sms: SmsDeps = {
    store: deps.store,
    clock: deps.clock,
    log: deps.log,
    instanceId: deps.instanceId,
    aliyun: {
      endpoint: deps.config.aliyunSmsEndpoint,
      fetch: deps.fetch,
      timeoutMs: deps.wechat.timeoutMs,
    },
  };
  return {
    async sendCode(name: string, body: { phone: string; scene: string }) {
      const { expiresAt } = await sendCode(sms, name, body);
      return { sent: true, expiresAt: new Date(expiresAt).toISOString() };
    },
    async verifyCode(name: string, body: { phone: string; scene: string; code: string }) {
      await verifyCode(sms, name, body);
      return { valid: true };
    },
    async upload(
      name: string,
      body: { key: string; contentType?: string | undefined; maxBytes?: number | undefined },
    ) {
      const bucket = await requireCosBucket(deps.store, name);
      const signed = signUpload(bucket, deps.config.cosEndpoint, body, deps.clock.now());
      return { ...signed, expiresAt: new Date(signed.expiresAt).toISOString() };
    },
  };
}
