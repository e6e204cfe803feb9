import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';

/** A signed callback request as WeChat would send it. */
export interface SignedPush {
  path: string;
  body: string;
}

/** Builds the query and body of a push signed with `token` (and encrypted when `aesKey` is given). */
export function signPush(opts: {
  app: string;
  token: string;
  message: string;
  timestamp: number;
  nonce?: string;
  encrypt?: { aesKey: Buffer; appId: string; format: 'xml' | 'json'; toUser?: string };
}): SignedPush {
  const ts = String(opts.timestamp);
  const nonce = opts.nonce ?? '1234567890';
  const signature = wechatSignature(opts.token, ts, nonce);
  if (opts.encrypt === undefined) {
    return {
      path: `/wx/${opts.app}/callback?signature=${signature}&timestamp=${ts}&nonce=${nonce}&openid=o-test`,
      body: opts.message,
    };
  }
  const e = opts.encrypt;
  const encrypted = encryptMessage(e.aesKey, opts.message, e.appId);
  const msgSignature = wechatSignature(opts.token, ts, nonce, encrypted);
  const to = e.toUser ?? 'gh_test';
  return {
    path: `/wx/${opts.app}/callback?signature=${signature}&timestamp=${ts}&nonce=${nonce}&openid=o-test&encrypt_type=aes&msg_signature=${msgSignature}`,
    body:
      e.format === 'xml'
        ? `<xml><ToUserName><![CDATA[${to}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`
        : JSON.stringify({ ToUserName: to, Encrypt: encrypted }),
  };
}

/** What a forward target saw. */
export interface Received {
  body: unknown;
  /** The body as sent, byte for byte (64-bit numbers unrounded). */
  text: string;
  idempotencyKey: string | undefined;
}

/**
 * A forward target on loopback whose behaviour a test switches: `up` answers 200 (with `reply`
 * when set: an object as JSON, a string as it is), `down` answers 503.
 */
export async function startTarget(): Promise<{
  url: string;
  received: Received[];
  mode: 'up' | 'down';
  reply: unknown;
  close(): Promise<void>;
}> {
  const state = {
    url: '',
    received: [] as Received[],
    mode: 'up' as 'up' | 'down',
    reply: undefined as unknown,
    close: (): Promise<void> => Promise.resolve(),
  };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  const server: Server = createServer(async (req, res) => {
    const text = await read(req);
    if (state.mode === 'down') {
      res.writeHead(503).end('down');
      return;
    }
    const key = req.headers['idempotency-key'];
    state.received.push({
      body: JSON.parse(text) as unknown,
      text,
      idempotencyKey: Array.isArray(key) ? key[0] : key,
    });
    if (state.reply === undefined) res.writeHead(204).end();
    else
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(typeof state.reply === 'string' ? state.reply : JSON.stringify(state.reply));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
