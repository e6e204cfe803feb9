import { runPush } from './push';

// `npm run push`: see runPush.
runPush(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`push: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
