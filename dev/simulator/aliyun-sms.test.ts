import { describe, expect, it } from 'vitest';
import { acs3Authorization, canonicalQuery, contentSha256 } from '../../shared/sms/aliyun-v3';
import { createSimulator } from './app';

describe('Aliyun SMS simulator', () => {
  const sim = createSimulator();
  sim.aliyunSms.registerKey('LTAItestkey0001', 'test-secret');
  const query = {
    PhoneNumbers: '13900001111',
    SignName: '测试',
    TemplateCode: 'SMS_1000',
    TemplateParam: '{"code":"123456"}',
  };
  const signed = (nonce: string, q: Record<string, string> = query) => {
    const headers = {
      host: 'localhost',
      'x-acs-action': 'SendSms',
      'x-acs-version': '2017-05-25',
      'x-acs-date': new Date(sim.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': nonce,
      'x-acs-content-sha256': contentSha256(''),
    };
    const authorization = acs3Authorization(
      { method: 'POST', path: '/aliyun-sms/', query, headers, body: '' },
      'LTAItestkey0001',
      'test-secret',
    );
    return sim.app.request(`http://localhost/aliyun-sms/?${canonicalQuery(q)}`, {
      method: 'POST',
      headers: { ...headers, authorization },
    });
  };

  it('accepts a correctly signed SendSms and records the message', async () => {
    const r = await signed('nonce-1');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ Code: 'OK', Message: 'OK' });
    expect(sim.aliyunSms.messages('13900001111').at(-1)?.params).toEqual({ code: '123456' });
  });

  it('refuses a tampered request, a replayed nonce and an unknown key like Aliyun', async () => {
    const tampered = await signed('nonce-2', { ...query, PhoneNumbers: '13900002222' });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ Code: 'SignatureDoesNotMatch' });
    expect(sim.aliyunSms.messages('13900002222')).toHaveLength(0);
    const replay = await signed('nonce-1');
    expect(await replay.json()).toMatchObject({ Code: 'SignatureNonceUsed' });
    const none = await sim.app.request('http://localhost/aliyun-sms/', { method: 'POST' });
    expect(await none.json()).toMatchObject({ Code: 'IncompleteSignature' });
  });
});
