import { writeFileSync } from 'node:fs';
import { buildUiModule, UI_MODULE } from './build-ui-lib';

// `npm run build:ui`: bundles the console into functions/admin/ui-assets.generated.ts (committed,
// so SCF bundles and `npm start` need no esbuild at run time). A test fails when it is stale.
const source = await buildUiModule();
writeFileSync(UI_MODULE, source);
process.stdout.write(`${UI_MODULE}  ${(Buffer.byteLength(source) / 1024).toFixed(1)} KiB\n`);
