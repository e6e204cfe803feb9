import { statSync } from 'node:fs';
import { build } from 'esbuild';

// `npm run build`: the one-port server bundle (`npm start`, the CloudRun image). Dependencies stay
// in node_modules (better-sqlite3 is native); per-function SCF bundles come with the deploy work.
const entries = [{ in: 'functions/server.ts', out: 'server' }];

const started = performance.now();
await build({
  entryPoints: entries,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
for (const e of entries) {
  const kb = (statSync(`dist/${e.out}.mjs`).size / 1024).toFixed(1);
  process.stdout.write(`dist/${e.out}.mjs  ${kb} KiB\n`);
}
process.stdout.write(`built in ${Math.round(performance.now() - started)} ms\n`);
