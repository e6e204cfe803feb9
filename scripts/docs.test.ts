import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The project's documentation stands alone: every relative link in README.md and docs/ leads to
// a file of this repository, and every #anchor to a heading of that file.

const ROOT = resolve(import.meta.dirname, '..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file offers (a repeated heading gets `-1`, `-2`, …). */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (m === null) continue;
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative link targets of a Markdown text (outside code spans and fences). */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '``');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('documentation links', () => {
  it.each(DOCS)('%s links only to files and headings of this repository', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const broken: string[] = [];
    for (const target of relativeLinks(text)) {
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? join(ROOT, doc) : resolve(ROOT, dirname(doc), path);
      const inside = !relative(ROOT, file).startsWith('..');
      if (!inside || !existsSync(file)) {
        broken.push(`${target}: no such file in the repository`);
      } else if (anchor !== undefined && file.endsWith('.md')) {
        if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${target}: no such heading`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds the links and anchors it checks', () => {
    expect(relativeLinks('see [a](docs/api.md#errors) and `[b](x.md)`, <https://x.y>')).toEqual([
      'docs/api.md#errors',
    ]);
    expect(
      anchorsOf("## The apps file (`WXHUB_APPS`)\n## What to enter in WeChat's consoles"),
    ).toEqual(new Set(['the-apps-file-wxhub_apps', 'what-to-enter-in-wechats-consoles']));
  });
});
