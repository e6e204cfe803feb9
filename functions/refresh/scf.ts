import { createScfHandler } from '../../shared/platform/scf';
import { createApp, refreshNow } from './app';

/** SCF event function entry: HTTP routes, and the refresh pass on timer events. */
export const main_handler = createScfHandler({ createApp, onTimer: refreshNow });
