import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AppConfig, type AppsFile, messageModeOf, parseAppsFile } from '../shared/config';
import {
  aesKeyOf,
  decryptMessage,
  encryptMessage,
  signatureOf,
  wechatSignature,
} from '../shared/wechat/message-crypto';
import { buildXml, parseXml } from '../shared/wechat/xml';

// `npm run push`: sends one message push to a running hub, signed (and encrypted in safe and
// compatible mode) as WeChat signs it, with the app's token and AES key from the apps file the
// hub uses; then prints the hub's answer, decrypting an encrypted passive reply.

/** What to push: a text message or an event (`subscribe`, `unsubscribe`, `SCAN`, …). */
export type PushMessage = { text: string } | { event: string };

export interface PushOptions {
  /** The hub's base URL, e.g. `http://127.0.0.1:3000`. */
  hub: string;
  app: AppConfig;
  message: PushMessage;
  /** XML (default, as Official Accounts push) or JSON (a Mini Program's setting). */
  format?: 'xml' | 'json';
  /** The user the push comes from (default `o-push-demo`). */
  openid?: string;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface PushResult {
  /** The URL posted to, signature included (it proves nothing once the timestamp is old). */
  url: string;
  /** `plain`, or `encrypted` for safe and compatible apps. */
  sent: 'plain' | 'encrypted';
  status: number;
  body: string;
  /** An encrypted passive reply, opened; `signatureOk` says whether its MsgSignature held. */
  reply?: { text: string; signatureOk: boolean };
}

/** Reads `WXHUB_APPS` the way the hub does: `@path` or inline JSON. */
export function readAppsFile(source: string): AppsFile {
  return parseAppsFile(source.startsWith('@') ? readFileSync(source.slice(1), 'utf8') : source);
}

/** The app named `name` (default: the first with a callback token); the error lists the others. */
export function pickApp(file: AppsFile, name: string | undefined): AppConfig {
  const pushable = file.apps.filter((a) => a.token !== undefined);
  const app = name === undefined ? pushable[0] : file.apps.find((a) => a.name === name);
  const names = pushable.map((a) => a.name).join(', ') || 'none';
  if (app === undefined) {
    throw new Error(
      `${name === undefined ? 'no app with a token' : `no app "${name}"`} in the apps file (apps with a token: ${names})`,
    );
  }
  if (app.token === undefined) {
    throw new Error(`app "${app.name}" has no token: the hub refuses its pushes (409)`);
  }
  return app;
}

function messageFields(app: AppConfig, message: PushMessage, openid: string, now: number) {
  const head = {
    ToUserName: `gh_${app.name.replace(/[^a-z0-9]/g, '')}`,
    FromUserName: openid,
    CreateTime: Math.floor(now / 1000),
  };
  if ('event' in message) return { ...head, MsgType: 'event', Event: message.event };
  const msgId = `${now}${randomInt(1000, 9999)}`;
  return { ...head, MsgType: 'text', Content: message.text, MsgId: msgId };
}

function render(fields: Record<string, unknown>, format: 'xml' | 'json'): string {
  if (format === 'xml') return buildXml(fields);
  // A JSON push carries MsgId as a bare number (64 bits: written out, never rounded).
  const { MsgId, ...rest } = fields;
  const json = JSON.stringify(rest);
  return MsgId === undefined ? json : `${json.slice(0, -1)},"MsgId":${String(MsgId)}}`;
}

/** The `Encrypt`, `MsgSignature`, `TimeStamp` and `Nonce` of an encrypted reply, if it is one. */
function envelopeOf(body: string): Record<string, string> | undefined {
  try {
    const fields: Record<string, unknown> = body.startsWith('<')
      ? parseXml(body)
      : (JSON.parse(body) as Record<string, unknown>);
    if (typeof fields.Encrypt !== 'string') return undefined;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
  } catch {
    return undefined;
  }
}

/** Sends one signed push to `/wx/{app}/callback` of the hub and reads the answer. */
export async function sendPush(opts: PushOptions): Promise<PushResult> {
  const { app } = opts;
  const token = app.token;
  if (token === undefined) throw new Error(`app "${app.name}" has no token`);
  const now = (opts.now ?? Date.now)();
  const format = opts.format ?? 'xml';
  const message = render(
    messageFields(app, opts.message, opts.openid ?? 'o-push-demo', now),
    format,
  );
  const timestamp = String(Math.floor(now / 1000));
  const nonce = String(randomInt(100_000_000, 2_000_000_000));
  const query = new URLSearchParams({
    signature: wechatSignature(token, timestamp, nonce),
    timestamp,
    nonce,
    openid: opts.openid ?? 'o-push-demo',
  });
  const encrypted = messageModeOf(app) !== 'plain' && app.encodingAesKey !== undefined;
  const key = encrypted && app.encodingAesKey !== undefined ? aesKeyOf(app.encodingAesKey) : null;
  let body = message;
  if (key !== null) {
    const encrypt = encryptMessage(key, message, app.appId);
    query.set('encrypt_type', 'aes');
    query.set('msg_signature', wechatSignature(token, timestamp, nonce, encrypt));
    const envelope = { ToUserName: `gh_${app.name.replace(/[^a-z0-9]/g, '')}`, Encrypt: encrypt };
    body = format === 'xml' ? buildXml(envelope) : JSON.stringify(envelope);
  }
  const url = `${opts.hub.replace(/\/+$/, '')}/wx/${encodeURIComponent(app.name)}/callback?${query}`;
  const res = await (opts.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': format === 'xml' ? 'text/xml' : 'application/json' },
    body,
  });
  const text = await res.text();
  const result: PushResult = {
    url,
    sent: key === null ? 'plain' : 'encrypted',
    status: res.status,
    body: text,
  };
  const envelope = key === null ? undefined : envelopeOf(text);
  if (key !== null && envelope?.Encrypt !== undefined) {
    const { Encrypt, MsgSignature, TimeStamp = '', Nonce = '' } = envelope;
    result.reply = {
      text: decryptMessage(key, Encrypt, app.appId),
      signatureOk: signatureOf(MsgSignature, token, TimeStamp, Nonce, Encrypt),
    };
  }
  return result;
}

const USAGE = `usage: npm run push -- [--app NAME] [--text TEXT | --event EVENT] [--json] [--hub URL] [--apps @FILE|JSON]

Sends one message push to a running hub, signed with the app's token (and encrypted in safe or
compatible mode) as WeChat sends it, and prints the hub's answer, decrypting an encrypted reply.
  --app    the app (default: the first with a token)
  --text   a text message (default "hello from npm run push")
  --event  an event instead, e.g. subscribe
  --json   a JSON body (a Mini Program's data format) instead of XML
  --hub    the hub's base URL (default http://127.0.0.1:$PORT, PORT defaulting to 3000)
  --apps   the apps file the hub uses (default $WXHUB_APPS, else @dev/apps.example.json)`;

/** Runs the command; returns the exit code (0 when the hub answered 2xx with a sound reply). */
export async function runPush(
  argv: string[],
  env: Record<string, string | undefined>,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    write(`${USAGE}\n`);
    return 0;
  }
  const file = readAppsFile(values.apps ?? env.WXHUB_APPS ?? '@dev/apps.example.json');
  const app = pickApp(file, values.app);
  const hub = values.hub ?? `http://127.0.0.1:${env.PORT ?? '3000'}`;
  const message: PushMessage =
    values.event !== undefined
      ? { event: values.event }
      : { text: values.text ?? 'hello from npm run push' };
  const r = await sendPush({ hub, app, message, format: values.json === true ? 'json' : 'xml' });
  const path = new URL(r.url).pathname;
  write(`POST ${hub}${path} (${messageModeOf(app)} mode, ${r.sent})\n`);
  write(`${r.status}\n${r.body}\n`);
  if (r.reply !== undefined) {
    write(`passive reply, decrypted (MsgSignature ${r.reply.signatureOk ? 'ok' : 'BAD'}):\n`);
    write(`${r.reply.text}\n`);
  }
  return r.status >= 200 && r.status < 300 && r.reply?.signatureOk !== false ? 0 : 1;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      app: { type: 'string' },
      text: { type: 'string' },
      event: { type: 'string' },
      json: { type: 'boolean' },
      hub: { type: 'string' },
      apps: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}
