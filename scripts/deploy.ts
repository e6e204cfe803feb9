import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `npm run deploy [-- --stage prod | --target token | …]`: deploys every SCF function in
 * deploy/scf with the Serverless Components CLI (`@serverless/components`, its Tencent commands),
 * installing that CLI on first use into deploy/cli from its own package.json and lockfile, so the
 * root `npm ci` never installs it. Arguments after `--` go to `components deploy`.
 */
export const ROOT = resolve(import.meta.dirname, '..');
export const CLI_DIR = join(ROOT, 'deploy/cli');
export const SCF_DIR = join(ROOT, 'deploy/scf');
export const CLI_BIN = join(CLI_DIR, 'node_modules/@serverless/components/bin/bin');

export interface Step {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
}

/** What `npm run deploy` runs, in order: the CLI install (when missing), then the deploy. */
export function deploySteps(args: readonly string[], cliInstalled: boolean): Step[] {
  const install: Step = {
    command: 'npm',
    args: ['ci', '--no-audit', '--no-fund'],
    cwd: CLI_DIR,
  };
  const deploy: Step = {
    command: process.execPath,
    args: [CLI_BIN, 'deploy', ...args],
    cwd: SCF_DIR,
    // Without it the CLI picks its AWS or Tencent commands from the machine's time zone
    // (isChinaUser in @serverless/components src/cli/utils.js).
    env: { SERVERLESS_PLATFORM_VENDOR: 'tencent' },
  };
  return cliInstalled ? [deploy] : [install, deploy];
}

function main(): void {
  for (const step of deploySteps(process.argv.slice(2), existsSync(CLI_BIN))) {
    const run = spawnSync(step.command, step.args, {
      cwd: step.cwd,
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
    });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main();
}
