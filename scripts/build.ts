import { buildFunctionBundles, buildServer } from './build-lib';

// `npm run build`: the one-port server bundle (`npm start`, the CloudRun image) and one SCF
// bundle per function (`dist/scf/<name>/index.js`, handler `index.main_handler`).
const started = performance.now();
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const server = await buildServer();
process.stdout.write(`${server.file}  ${kib(server.bytes)}\n`);
for (const b of await buildFunctionBundles()) {
  process.stdout.write(`${b.file}  ${kib(b.bytes)}\n`);
}
process.stdout.write(`built in ${Math.round(performance.now() - started)} ms\n`);
