import { reportStartFailure, serveUntilSignalled, startHub } from '../shared/platform/main';
import { createHubApp, refreshNow } from './index';

// `npm start` and the CloudRun image: every function on PORT, refresh on an in-process schedule.
startHub(process.env, { createApp: createHubApp, refresh: refreshNow }).then(
  serveUntilSignalled,
  (err: unknown) => process.exit(reportStartFailure(err)),
);
