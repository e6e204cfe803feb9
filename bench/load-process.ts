import { countedLoad, type LoadSpec } from './http-load';

/**
 * The load generator as a process of its own (started by `startLoadProcess`): each message is
 * one `countedLoad` run, answered with the requests it completed and the wall time it took.
 */
process.on('message', (opts: LoadSpec) => {
  countedLoad(opts).then(
    (run) => process.send?.({ ok: true, ...run }),
    (err: unknown) =>
      process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.send?.({ ready: true });
