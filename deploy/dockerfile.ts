import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository's Dockerfile (the WeChat CloudRun image). */
export const DOCKERFILE_PATH = join(resolve(import.meta.dirname, '..'), 'Dockerfile');

/** One instruction, continuation lines joined. `keyword` is upper case. */
export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** `FROM image AS name`; undefined for an unnamed stage. */
  name: string | undefined;
  /** The image after ARG defaults are substituted. */
  from: string;
  instructions: Instruction[];
}

/** How the image starts: what a test needs to run the same command with the same environment. */
export interface ContainerEntry {
  /** The final stage's `CMD` in exec form, e.g. `["node", "dist/server.mjs"]`. */
  command: string[];
  /** Every `ENV` of the final stage, in order (later ones win). */
  env: Record<string, string>;
  exposedPorts: number[];
  user: string | undefined;
  workdir: string | undefined;
}

function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comment lines are dropped, even inside a continued instruction (as Docker does).
    if (trimmed.startsWith('#')) return;
    if (current === undefined && trimmed === '') return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    if (current === undefined) current = { text: part, line: i + 1 };
    else current.text = `${current.text} ${part}`.trim();
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current !== undefined) out.push(current);
  return out;
}

function substitute(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (m, a?: string, b?: string) => vars[a ?? b ?? ''] ?? m,
  );
}

/** Splits `a=1 b="two words"` style arguments; quotes are removed. */
export function splitWords(args: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < args.length; i++) {
    const ch = args.charAt(i);
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < args.length) word += args.charAt(++i);
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

/** Parses a Dockerfile into stages. ARGs declared before the first FROM are substituted in FROM. */
export function parseDockerfile(text: string): Stage[] {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const { text: line, line: number } of logicalLines(text)) {
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    const keyword = (m[1] ?? '').toUpperCase();
    const args = m[2] ?? '';
    if (keyword === 'FROM') {
      const words = splitWords(args).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        from: substitute(words[0] ?? '', globalArgs),
        name: as >= 0 ? words[as + 1] : undefined,
        instructions: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (keyword === 'ARG') {
        const [name, value = ''] = (splitWords(args)[0] ?? '').split(/=(.*)/s);
        if (name) globalArgs[name] = value;
      }
      continue;
    }
    stage.instructions.push({ keyword, args, line: number });
  }
  return stages;
}

/** The JSON (exec) form of CMD/ENTRYPOINT/RUN, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`not an exec form: ${args}`);
  }
  return parsed;
}

/** Every `ENV` of a stage, as name → value. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    const words = splitWords(i.args);
    if (words.length === 2 && !(words[0] ?? '').includes('=')) {
      env[words[0] ?? ''] = words[1] ?? ''; // legacy `ENV NAME value`
      continue;
    }
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq > 0) env[w.slice(0, eq)] = w.slice(eq + 1);
    }
  }
  return env;
}

/**
 * The final stage's start command, environment, exposed ports, user and working directory.
 *
 * @example const { command, env } = containerEntry(readFileSync(DOCKERFILE_PATH, 'utf8'));
 */
export function containerEntry(text: string): ContainerEntry {
  const final = parseDockerfile(text).at(-1);
  if (final === undefined) throw new Error('the Dockerfile has no FROM');
  const last = (k: string) => final.instructions.filter((i) => i.keyword === k).at(-1);
  const cmd = last('CMD');
  const command = cmd === undefined ? undefined : execForm(cmd.args);
  if (command === undefined) throw new Error('the final stage needs CMD in exec form');
  return {
    command,
    env: stageEnv(final),
    exposedPorts: final.instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => splitWords(i.args).map((p) => Number.parseInt(p, 10))),
    user: last('USER')?.args.trim(),
    workdir: last('WORKDIR')?.args.trim(),
  };
}

/** {@link containerEntry} of the repository's Dockerfile. */
export function readContainerEntry(path: string = DOCKERFILE_PATH): ContainerEntry {
  return containerEntry(readFileSync(path, 'utf8'));
}
