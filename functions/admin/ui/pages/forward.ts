import { h } from '../dom';
import type { ForwardRule } from '../types';
import { field } from '../ui';

/** Forward rules as the form shows them: one URL per line, or JSON when a rule has more. */
export function forwardText(rules: readonly ForwardRule[]): string {
  if (rules.every((r) => Object.keys(r).length === 1)) return rules.map((r) => r.url).join('\n');
  return JSON.stringify(rules, null, 2);
}

/** The form's text back to rules: a JSON array, or URLs one per line. */
export function parseForward(text: string): ForwardRule[] {
  const t = text.trim();
  if (t === '') return [];
  if (t.startsWith('[')) {
    try {
      return JSON.parse(t) as ForwardRule[];
    } catch {
      throw new Error('Forward rules: not valid JSON');
    }
  }
  return t
    .split(/\s*\n\s*/)
    .filter((u) => u !== '')
    .map((url) => ({ url }));
}

export function forwardField(rules: readonly ForwardRule[]): HTMLElement {
  return field(
    'Forward to',
    h(
      'textarea',
      { name: 'forward', rows: 3, class: 'mono', spellcheck: 'false' },
      forwardText(rules),
    ),
    'One URL per line, or a JSON array of rules ({"url","match","timeoutMs"}).',
  );
}

export function forwardSummary(rules: readonly ForwardRule[]): HTMLElement {
  if (rules.length === 0) return h('span', { class: 'dim' }, 'not forwarded');
  return h(
    'ul',
    { class: 'plain' },
    rules.map((r) =>
      h('li', {}, h('code', {}, r.url), r.match === undefined ? null : ' (filtered)'),
    ),
  );
}
