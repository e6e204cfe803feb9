import { ApiError, api } from './api';
import { type Attrs, type Child, h, replace } from './dom';
import { absolute, relative } from './format';

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

/** What went wrong, in words for the operator (the hub's message, then code and request id). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const ref = [err.code, err.requestId === undefined ? '' : `request ${err.requestId}`]
      .filter((p) => p !== '')
      .join(', ');
    return `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)} (${ref})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** An error box read out by screen readers. */
export function errorBox(err: unknown): HTMLElement {
  return h('div', { class: 'alert alert-bad', role: 'alert' }, describeError(err));
}

let flashHost: HTMLElement | undefined;
let flashTimer: number | undefined;

/** Where {@link flash} writes (the shell's notice area). */
export function setFlashHost(el: HTMLElement): void {
  flashHost = el;
}

/** A short notice above the page: the outcome of an action. Errors stay until the next one. */
export function flash(message: string, tone: Tone = 'ok'): void {
  if (flashHost === undefined) return;
  window.clearTimeout(flashTimer);
  replace(
    flashHost,
    h('div', { class: `alert alert-${tone}`, role: tone === 'bad' ? 'alert' : 'status' }, message),
  );
  if (tone !== 'bad') {
    flashTimer = window.setTimeout(() => flashHost?.replaceChildren(), 6000);
  }
}

/** Removes the notice. */
export function clearFlash(): void {
  window.clearTimeout(flashTimer);
  flashHost?.replaceChildren();
}

export function badge(text: string, tone: Tone = 'muted'): HTMLElement {
  return h('span', { class: `badge badge-${tone}` }, text);
}

const STATUS_TONES: Record<string, Tone> = {
  delivered: 'ok',
  authorized: 'ok',
  enabled: 'ok',
  active: 'ok',
  pending: 'warn',
  dead: 'bad',
  failed: 'bad',
  discarded: 'muted',
  revoked: 'muted',
  disabled: 'muted',
};

export function statusBadge(status: string): HTMLElement {
  return badge(status, STATUS_TONES[status] ?? 'info');
}

/** `<time>` showing how long ago (or until), the exact time on hover; a dash for none. */
export function when(iso: string | null | undefined): Child {
  if (iso === null || iso === undefined || iso === '') return h('span', { class: 'dim' }, '—');
  return h('time', { datetime: iso, title: absolute(iso) }, relative(iso));
}

export const dash = (): HTMLElement => h('span', { class: 'dim' }, '—');

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  className?: string;
}

/** A table with a header row, or a quiet line when there are no rows. */
export function table<T>(columns: Column<T>[], rows: readonly T[], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c) => h('th', { scope: 'col' }, c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            columns.map((c) =>
              h('td', c.className === undefined ? {} : { class: c.className }, c.cell(r)),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A button that runs `action`, disabled while it runs; a failure is shown as a notice and the
 * button comes back.
 */
export function actionButton(
  label: string,
  action: () => Promise<void>,
  attrs: Attrs = {},
): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'btn', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await action();
    } catch (err) {
      flash(describeError(err), 'bad');
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

let fieldCount = 0;

/** A labelled form control with an optional hint under it. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: Child,
): HTMLElement {
  fieldCount += 1;
  const id = control.id === '' ? `f${fieldCount}` : control.id;
  control.id = id;
  const hintId = `${id}-hint`;
  if (hint !== undefined) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint === undefined ? null : h('small', { id: hintId, class: 'hint' }, hint),
  );
}

/** A `<select>` of `options`; the empty option reads `emptyLabel` (`any` in filters). */
export function select(
  name: string,
  options: readonly string[],
  value = '',
  attrs: Attrs = {},
  emptyLabel = 'any',
) {
  return h(
    'select',
    { name, ...attrs },
    options.map((o) => h('option', { value: o, selected: o === value }, o === '' ? emptyLabel : o)),
  );
}

export function pageHeader(title: string, ...actions: Child[]): HTMLElement {
  return h(
    'header',
    { class: 'page-header' },
    h('h1', {}, title),
    h('div', { class: 'actions' }, actions),
  );
}

export function card(title: string | null, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, title === null ? null : h('h2', {}, title), children);
}

/** A definition list of label → value. */
export function pairs(rows: [string, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'pairs' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

/** A button that copies `text` to the clipboard (or selects it where the clipboard is barred). */
export function copyButton(text: string, target?: HTMLElement): HTMLButtonElement {
  return actionButton('Copy', async () => {
    try {
      await navigator.clipboard.writeText(text);
      flash('Copied to the clipboard.');
    } catch {
      if (target !== undefined) window.getSelection()?.selectAllChildren(target);
      flash('Selected: press Ctrl+C (⌘C) to copy.', 'info');
    }
  });
}

/**
 * A modal form (native `<dialog>`: focus stays inside, Escape closes). `submit` gets the form's
 * values; when it throws, the error shows in the dialog and the dialog stays open.
 */
export function openDialog(
  title: string,
  body: Child,
  submitLabel: string,
  submit: (form: HTMLFormElement) => Promise<void>,
): HTMLDialogElement {
  const problem = h('div', { class: 'dialog-error' });
  const submitButton = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' });
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: false },
    h('h2', { id: 'dialog-title' }, title),
    problem,
    body,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => dialog.close() }, 'Cancel'),
      submitButton,
    ),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submitButton.disabled = true;
    problem.replaceChildren();
    try {
      await submit(form);
      dialog.close();
    } catch (err) {
      replace(problem, errorBox(err));
    } finally {
      submitButton.disabled = false;
    }
  });
  dialog.append(form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** What the console adds and edits by name: its API collection and how to call it. */
export interface NamedKind {
  /** The API collection (`apps`); one of them is at `<path>/<name>`. */
  path: string;
  /** Lower case with its article (`an app`), and the capitalised noun (`App`). */
  aNoun: string;
  noun: string;
}

/**
 * The dialog that adds one of `kind` (`name` undefined: POST to its collection) or edits the one
 * named `name` (PATCH), sending `body(form, creating)`; then a flash and `done`.
 */
export function editNamed(
  kind: NamedKind,
  name: string | undefined,
  fields: Child,
  body: (form: HTMLFormElement, creating: boolean) => Record<string, unknown>,
  done: () => void,
): void {
  openDialog(
    name === undefined ? `Add ${kind.aNoun}` : `Edit ${name}`,
    fields,
    name === undefined ? `Add ${kind.noun.toLowerCase()}` : 'Save',
    async (form) => {
      if (name === undefined) {
        await api('POST', kind.path, body(form, true));
        flash(`${kind.noun} ${formValue(form, 'name')} added.`);
      } else {
        await api('PATCH', `${kind.path}/${encodeURIComponent(name)}`, body(form, false));
        flash(`${kind.noun} ${name} saved.`);
      }
      done();
    },
  );
}

/**
 * A filter form (`form.filters`, a search landmark unless `search` is false): `controls`, then a
 * submit button labelled `submitLabel`; submitting calls `submit` with the form.
 */
export function filterForm(
  controls: Child[],
  submitLabel: string,
  submit: (form: HTMLFormElement) => void,
  search = true,
): HTMLFormElement {
  const form = h(
    'form',
    search ? { class: 'filters', role: 'search' } : { class: 'filters' },
    controls,
    h('button', { type: 'submit', class: 'btn' }, submitLabel),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(form);
  });
  return form;
}

/** A labelled free-text filter input named `name`, showing `value`. */
export function textFilter(label: string, name: string, value: string, placeholder: string) {
  return h('label', {}, `${label} `, h('input', { name, value, autocomplete: 'off', placeholder }));
}

/** The trimmed text of a form field (empty when absent). */
export function formValue(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  if (el instanceof HTMLInputElement && el.type === 'checkbox') return el.checked ? 'on' : '';
  return el instanceof HTMLInputElement ||
    el instanceof HTMLSelectElement ||
    el instanceof HTMLTextAreaElement
    ? el.value.trim()
    : '';
}

/** A write-only secret input: never pre-filled; says whether a value is set and how to replace it. */
export function secretField(label: string, name: string, isSet: boolean, multiline = false) {
  const attrs = {
    name,
    autocomplete: 'new-password',
    spellcheck: 'false',
    placeholder: isSet ? 'set — type to replace' : 'not set',
  };
  const control = multiline
    ? h('textarea', { ...attrs, rows: 3, class: 'mono' })
    : h('input', { ...attrs, type: 'password' });
  return field(
    label,
    control,
    isSet ? 'A value is set. Leave empty to keep it.' : 'Write-only: never shown again.',
  );
}
