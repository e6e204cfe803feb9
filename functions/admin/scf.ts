import { createScfHandler } from '../../shared/platform/scf';
import { createApp } from './app';
import { consoleParts } from './console';

/** SCF event function entry (`handler: scf.main_handler` after bundling). */
export const main_handler = createScfHandler({
  createApp: (deps) => createApp(deps, consoleParts(deps)),
});
