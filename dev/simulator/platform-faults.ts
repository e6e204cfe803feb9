import type { CallCounters, FaultBook, SimFault } from './faults';
import { waitFaultDelay } from './faults';

/**
 * Fault injection and counting for the delivery platforms' simulators (`/fengniao`, `/shansong`),
 * with the same fault book and counters as the WeChat paths: a fault's `path` is the full path
 * (`/fengniao/openapi/token`); `errcode` answers the platform's own error envelope with that code,
 * `status` an HTML error page, `delayMs` waits first.
 */
export async function platformFault(
  books: { faults: FaultBook; counters: CallCounters },
  path: string,
  appId: string | undefined,
  errorBody: (code: number, msg: string) => unknown,
): Promise<Response | undefined> {
  books.counters.record(path, appId);
  const f: SimFault | undefined = books.faults.take(path, appId);
  if (f === undefined) return undefined;
  await waitFaultDelay(f);
  if (f.errcode !== undefined) {
    return Response.json(errorBody(f.errcode, f.errmsg ?? 'simulated error'), {
      status: f.status ?? 200,
    });
  }
  if (f.status !== undefined) {
    return new Response(`<html><body><h1>${f.status}</h1></body></html>`, {
      status: f.status,
      headers: { 'content-type': 'text/html' },
    });
  }
  return undefined;
}
