import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** Requests whose body the base app checked by its length and left unread on the Node request. */
const unread = new WeakMap<Context, IncomingMessage>();

/**
 * On Node, a body whose `content-length` the base app checked (and no `transfer-encoding`) is left
 * on the incoming message for {@link requestText}; reading it through the Web `Request` instead
 * makes @hono/node-server build one with a Web stream around the message, which costs more than
 * verifying and opening a push. Returns the declared length, or undefined elsewhere (SCF events,
 * `app.request` in tests) and for a body without one: the caller then checks it as it streams in.
 */
export function leaveBodyUnread(c: Context): { declared: number } | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const length = incoming?.headers?.['content-length'];
  if (incoming === undefined || length === undefined) return undefined;
  if (incoming.headers['transfer-encoding'] !== undefined || !/^\d{1,15}$/.test(length)) {
    return undefined;
  }
  unread.set(c, incoming);
  return { declared: Number(length) };
}

// As `Request.text()`: UTF-8, a leading byte order mark dropped, bad sequences replaced.
const utf8 = new TextDecoder('utf-8');

/**
 * The request body as text, read once: straight from the Node request when the base app left it
 * there ({@link leaveBodyUnread}), else `c.req.text()`.
 */
export async function requestText(c: Context): Promise<string> {
  const incoming = unread.get(c);
  if (incoming === undefined) return c.req.text();
  unread.delete(c);
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return utf8.decode(Buffer.concat(chunks));
}
