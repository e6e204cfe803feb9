import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery the demo target received. */
export interface Delivery {
  path: string;
  /** The forwarded payload (`{"app", "message", …}`), or undefined when it was not JSON. */
  body: Record<string, unknown> | undefined;
  /** The passive reply it answered, if any. */
  reply: Record<string, unknown> | undefined;
}

export interface DemoTarget {
  /** Base URL, e.g. `http://127.0.0.1:3002` (no trailing slash). */
  url: string;
  received: Delivery[];
  close(): Promise<void>;
}

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The passive reply to a forwarded push: an echo of a text, a note naming an event. */
function replyTo(message: Record<string, unknown>): Record<string, unknown> | undefined {
  if (message.MsgType === 'text') {
    return { MsgType: 'text', Content: `echo: ${String(message.Content ?? '')}` };
  }
  if (message.MsgType === 'event') {
    return { MsgType: 'text', Content: `got event ${String(message.Event ?? '')}` };
  }
  return undefined;
}

function describe(d: Delivery): string {
  const m = d.body?.message;
  if (d.body === undefined) return `${d.path}: a body that is not JSON`;
  if (typeof d.body.merchant === 'string') {
    return `${d.body.merchant}: pay notification ${String(d.body.eventType)}`;
  }
  if (typeof m !== 'object' || m === null) return `${d.path}: a delivery`;
  const f = m as Record<string, unknown>;
  const what =
    f.MsgType === 'text'
      ? `text ${JSON.stringify(f.Content)}`
      : `${String(f.MsgType ?? 'message')}${f.Event === undefined ? '' : ` ${String(f.Event)}`}`;
  const from = f.FromUserName === undefined ? '' : ` from ${String(f.FromUserName)}`;
  const reply = d.reply === undefined ? '' : ` → reply ${JSON.stringify(d.reply.Content)}`;
  return `${String(d.body.app ?? d.path)}: ${what}${from}${reply}`;
}

/**
 * The forward target of `npm run dev`: a small HTTP server that logs each delivery the hub makes
 * (one line via `write`) and answers a push with a passive reply (`{"reply": {…}}`: an echo of a
 * text, a note for an event); anything else gets 204.
 */
export function startDemoTarget(
  opts: { port?: number; write?: (text: string) => void } = {},
): Promise<DemoTarget> {
  const received: Delivery[] = [];
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const server = createServer(async (req, res) => {
    const body = parse(await read(req));
    const message = body?.message;
    const reply =
      typeof message === 'object' && message !== null
        ? replyTo(message as Record<string, unknown>)
        : undefined;
    const delivery: Delivery = { path: req.url ?? '/', body, reply };
    received.push(delivery);
    write(`[forward target] ${describe(delivery)}\n`);
    if (reply === undefined) res.writeHead(204).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reply }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
