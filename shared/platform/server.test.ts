import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../http/log';
import { listen, type RunningServer, SERVER_TIMEOUTS } from './server';

/**
 * A slowloris client: sends a request head one header line every 50 ms and never finishes it.
 * Resolves with what the server answered once it closes the connection, or `undefined` when the
 * connection is still open after `giveUpMs` (the client then stops).
 */
function dribble(port: number, giveUpMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let n = 0;
    const tick = setInterval(() => {
      n += 1;
      socket.write(
        n === 1 ? 'GET / HTTP/1.1\r\nHost: hub\r\n' : `x-slow-${n}: ${'a'.repeat(10)}\r\n`,
      );
    }, 50);
    const finish = (answer: string | undefined) => {
      clearInterval(tick);
      clearTimeout(stop);
      socket.destroy();
      resolve(answer);
    };
    const stop = setTimeout(() => finish(undefined), giveUpMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('close', () => finish(received));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(received);
      else reject(err);
    });
  });
}

describe('Node server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close(100);
    server = undefined;
  });
  const app = { fetch: () => new Response('ok') };

  it('has documented time limits for a request head and a whole request', () => {
    expect(SERVER_TIMEOUTS).toEqual({
      headersMs: 10_000,
      requestMs: 30_000,
      keepAliveMs: 5_000,
      checkIntervalMs: 1_000,
    });
  });

  it('cuts a client that sends its headers too slowly', async () => {
    server = await listen(app, 0, createLogger('silent'), '127.0.0.1', {
      headersMs: 300,
      requestMs: 600,
      checkIntervalMs: 50,
    });
    const answer = await dribble(server.port, 4_000);
    expect(answer).toBeDefined();
    expect(answer === '' || answer?.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('still serves a client that sends its request in time', async () => {
    server = await listen(app, 0, createLogger('silent'), '127.0.0.1', {
      headersMs: 300,
      requestMs: 600,
      checkIntervalMs: 50,
    });
    const res = await fetch(`${server.url}/`);
    expect(await res.text()).toBe('ok');
  });
});
