import { AppError } from '../http/errors';
import type { Telemetry } from '../metrics/telemetry';

/** What a receiver reports once its callback is stored (or found stored already). */
export type CountStored = (outcome: 'stored' | 'deduplicated') => void;

/**
 * Runs `receive` with its callback counted in `wxhub_callbacks_total` under `platform`: stored or
 * deduplicated as `receive` reports it, refused (with the reason of what it throws) when it throws
 * before reporting. Every WeChat-facing callback route goes through this: WeChat's and WeCom's
 * pushes, the delivery platforms' callbacks.
 */
export async function countedCallback<T>(
  deps: { telemetry?: Telemetry | undefined },
  platform: string,
  receive: (count: CountStored) => Promise<T>,
): Promise<T> {
  const metrics = deps.telemetry?.metrics;
  if (metrics === undefined) return receive(() => {});
  let counted = false;
  try {
    return await receive((outcome) => {
      counted = true;
      metrics.callback(platform, outcome);
    });
  } catch (err) {
    if (!counted) metrics.callback(platform, 'refused', refusalReason(err));
    throw err;
  }
}

/** A refusal's reason label: the error code (`unauthorized`, `bad_request`…), or `replayed`. */
function refusalReason(err: unknown): string {
  if (err instanceof AppError) {
    return err.message.startsWith('this signature was already used')
      ? 'replayed'
      : err.code.toLowerCase();
  }
  return 'internal';
}
