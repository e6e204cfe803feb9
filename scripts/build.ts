import { buildFunctionBundles, buildServer, selectFunctions } from './build-lib';

// `npm run build`: the one-port server bundle (`npm start`, the CloudRun image) and one SCF
// bundle per function (`dist/scf/<name>/index.js`, handler `index.main_handler`).
// `npm run build -- token proxy`: only those functions' SCF bundles (each SCF deploy hook
// builds its own function).
let only: readonly string[] | undefined;
try {
  only = selectFunctions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`npm run build: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
const started = performance.now();
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
if (only === undefined) {
  const server = await buildServer();
  process.stdout.write(`${server.file}  ${kib(server.bytes)}\n`);
}
for (const b of await buildFunctionBundles(undefined, only)) {
  const dialects = Object.entries(b.dialectBytes ?? {})
    .map(([d, n]) => `${d}.js ${kib(n)}`)
    .join(', ');
  process.stdout.write(`${b.file}  ${kib(b.bytes)}  (+ ${dialects}, loaded for its database)\n`);
}
process.stdout.write(`built in ${Math.round(performance.now() - started)} ms\n`);
