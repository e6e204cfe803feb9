import { reportStartFailure, stopOnSignals } from '../shared/platform/main';
import { startDev } from './start';

// `npm run dev`: see startDev.
startDev(process.env).then(
  (dev) => stopOnSignals({ stop: dev.stop }),
  (err: unknown) => process.exit(reportStartFailure(err)),
);
