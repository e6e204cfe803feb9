import { Hono } from 'hono';
import { requireCosBucket } from '../../shared/apps/signing-entries';
import { signUpload } from '../../shared/cos/upload';
import type { HubEnv } from '../../shared/http/app';
import { mount } from '../../shared/http/routes';
import type { Deps } from '../../shared/platform/deps';
import { type SmsDeps, sendCode, verifyCode } from '../../shared/sms/codes';
import * as api from './signing-api';

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

/**
 * `/v1/sms/…` and `/v1/cos/…`, declarations and answers: mounted by the token function behind
 * `lazyRoutes`, so neither is parsed or built at its cold start.
 */
export function createSigningRoutes(deps: Deps): Hono<HubEnv> {
  const r = new Hono<HubEnv>();
  const signing = createSigning(deps);
  mount(r, api.smsSendCode, async (c, { params, body }) =>
    c.json(await signing.sendCode(params.name, body)),
  );
  mount(r, api.smsVerifyCode, async (c, { params, body }) =>
    c.json(await signing.verifyCode(params.name, body)),
  );
  mount(r, api.cosUpload, async (c, { params, body }) =>
    c.json(await signing.upload(params.name, body)),
  );
  return r;
}
