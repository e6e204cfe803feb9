import { h } from '../dom';
import { fromLocalInput, toLocalInput } from '../format';
import { hashOf } from '../page';
import { formValue } from '../ui';

export interface SearchField {
  name: string;
  label: string;
  type?: 'text' | 'time';
  placeholder?: string;
}

/** A search form whose values live in the page's hash (so back, reload and links keep them). */
export function searchForm(
  path: string,
  fields: SearchField[],
  params: URLSearchParams,
  go: (hash: string) => void,
): HTMLFormElement {
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    fields.map((f) =>
      h(
        'label',
        {},
        `${f.label} `,
        f.type === 'time'
          ? h('input', {
              name: f.name,
              type: 'datetime-local',
              value: toLocalInput(params.get(f.name) ?? ''),
            })
          : h('input', {
              name: f.name,
              value: params.get(f.name) ?? '',
              placeholder: f.placeholder ?? '',
              autocomplete: 'off',
            }),
      ),
    ),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
    h('a', { class: 'btn btn-link', href: `#/${path}` }, 'Clear'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const query: Record<string, string> = {};
    for (const f of fields) {
      const v = formValue(form, f.name);
      query[f.name] = f.type === 'time' ? fromLocalInput(v) : v;
    }
    go(hashOf(path, query));
  });
  return form;
}

/** The link to the next (older) page: the same search with `before` set. */
export function olderLink(path: string, params: URLSearchParams, next: string | number | null) {
  if (next === null || next === undefined) return null;
  const query = Object.fromEntries(params.entries());
  return h(
    'p',
    { class: 'pager' },
    h('a', { class: 'btn', href: hashOf(path, { ...query, before: String(next) }) }, 'Older →'),
  );
}

/** A value of a parsed body: text as it is, anything else as JSON. */
export function showValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}
