/**
 * `GET /docs`: the API reference rendered on the server from the OpenAPI document. Plain HTML
 * with one stylesheet served by the hub itself: no script (so the strictest CSP holds), no CDN,
 * readable without JavaScript, rendered once per process.
 */

type Json = Record<string, unknown>;

const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Escaped text with `code` spans. */
const prose = (v: unknown) =>
  typeof v === 'string' ? escapeHtml(v).replace(/`([^`]+)`/g, '<code>$1</code>') : '';

const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** What a JSON Schema accepts, in a few words: `string (date-time)`, `"pc" | "h5"`, `integer ≥ 1`. */
function typeText(schema: Json): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s) => typeText(obj(s))).join(' | ');
  let t =
    typeof schema.type === 'string'
      ? schema.type
      : Array.isArray(schema.type)
        ? schema.type.join(' | ')
        : 'any';
  if (t === 'array') t = `array of ${typeText(obj(schema.items))}`;
  const notes: string[] = [];
  if (typeof schema.format === 'string') notes.push(schema.format);
  if (typeof schema.pattern === 'string') notes.push(`pattern ${schema.pattern}`);
  if (typeof schema.minimum === 'number') notes.push(`≥ ${schema.minimum}`);
  if (typeof schema.maximum === 'number') notes.push(`≤ ${schema.maximum}`);
  if (typeof schema.minLength === 'number' && schema.minLength > 0) notes.push('non-empty');
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  return notes.length === 0 ? t : `${t} (${notes.join(', ')})`;
}

/** One row per field of an object schema, nested fields as `a.b`, array items as `a[].b`. */
function fieldRows(schema: Json, prefix: string, rows: string[]): void {
  const props = obj(schema.properties);
  const required = Array.isArray(schema.required) ? schema.required : [];
  for (const [name, p] of Object.entries(props)) {
    const prop = obj(p);
    const path = `${prefix}${name}`;
    rows.push(
      `<tr><td><code>${escapeHtml(path)}</code>${required.includes(name) ? ' *' : ''}</td>` +
        `<td>${escapeHtml(typeText(prop))}</td><td>${prose(prop.description)}</td></tr>`,
    );
    if (prop.type === 'object') fieldRows(prop, `${path}.`, rows);
    const items = obj(prop.items);
    if (prop.type === 'array' && items.type === 'object') fieldRows(items, `${path}[].`, rows);
  }
}

/** A schema as a table of its fields (`*` required), or its type in words. */
function schemaBlock(schema: unknown): string {
  const s = obj(schema);
  const rows: string[] = [];
  fieldRows(s, '', rows);
  const open = s.type === 'object' && rows.length === 0 ? 'any JSON object' : '';
  if (rows.length === 0)
    return `<p>${escapeHtml(open || typeText(s))}${prose(s.description) === '' ? '' : ` — ${prose(s.description)}`}</p>`;
  return `<table><tr><th>field</th><th>type</th><th>meaning</th></tr>${rows.join('')}</table>`;
}

function parametersTable(params: unknown): string {
  if (!Array.isArray(params) || params.length === 0) return '';
  const rows = params
    .map((p) => {
      const q = obj(p);
      return (
        `<tr><td><code>${escapeHtml(String(q.name))}</code>${q.required === true ? ' *' : ''}</td>` +
        `<td>${escapeHtml(String(q.in))}</td><td>${escapeHtml(typeText(obj(q.schema)))}</td>` +
        `<td>${prose(q.description)}</td></tr>`
      );
    })
    .join('');
  return `<table><tr><th>parameter</th><th>in</th><th>type</th><th>meaning</th></tr>${rows}</table>`;
}

function contentBlock(content: unknown): string {
  return Object.entries(obj(content))
    .map(([type, media]) => {
      const schema = obj(media).schema;
      const shown = schema !== undefined && Object.keys(obj(schema)).length > 0;
      return `<p class="type">${escapeHtml(type)}${shown ? '' : ': as it comes'}</p>${shown ? schemaBlock(schema) : ''}`;
    })
    .join('');
}

function operationSection(path: string, method: string, op: Json): string {
  const id = typeof op.operationId === 'string' ? op.operationId : `${method}-${path}`;
  const body = obj(op.requestBody);
  const responses = Object.entries(obj(op.responses))
    .map(([status, r]) => {
      const res = obj(r);
      const isError = Number(status) >= 400;
      return (
        `<li><span class="status">${escapeHtml(status)}</span> ${prose(res.description)}` +
        `${isError ? '' : contentBlock(res.content)}</li>`
      );
    })
    .join('');
  return (
    `<section id="${escapeHtml(id)}"><h3><span class="method ${escapeHtml(method)}">` +
    `${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>` +
    `<p class="summary">${prose(op.summary)}</p>${op.description === undefined ? '' : `<p>${prose(op.description)}</p>`}` +
    parametersTable(op.parameters) +
    (Object.keys(body).length === 0
      ? ''
      : `<h4>Body</h4>${body.description === undefined ? '' : `<p>${prose(body.description)}</p>`}${contentBlock(body.content)}`) +
    `<h4>Answers</h4><ul class="responses">${responses}</ul></section>`
  );
}

/** The whole page from an OpenAPI document. */
export function renderDocs(doc: Json): string {
  const info = obj(doc.info);
  const tags = Array.isArray(doc.tags) ? doc.tags.map(obj) : [];
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, item] of Object.entries(obj(doc.paths))) {
    for (const [method, o] of Object.entries(obj(item))) {
      const op = obj(o);
      const tag = Array.isArray(op.tags) && typeof op.tags[0] === 'string' ? op.tags[0] : 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationSection(path, method, op)]);
      const id = escapeHtml(String(op.operationId));
      const link = `<li><a href="#${id}">${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</a></li>`;
      toc.set(tag, [...(toc.get(tag) ?? []), link]);
    }
  }
  const tagText = (name: string) => tags.find((t) => t.name === name)?.description;
  const order = [...new Set([...tags.map((t) => String(t.name)), ...byTag.keys()])].filter((t) =>
    byTag.has(t),
  );
  const nav = order
    .map(
      (t) =>
        `<h2><a href="#tag-${escapeHtml(t)}">${escapeHtml(t)}</a></h2><ul>${(toc.get(t) ?? []).join('')}</ul>`,
    )
    .join('');
  const main = order
    .map(
      (t) =>
        `<h2 id="tag-${escapeHtml(t)}">${escapeHtml(t)}</h2><p>${prose(tagText(t))}</p>${(byTag.get(t) ?? []).join('')}`,
    )
    .join('');
  const errorSchema = obj(obj(obj(doc.components).schemas).Error);
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(String(info.title))} API reference</title>` +
    '<link rel="stylesheet" href="/docs/style.css"></head><body>' +
    `<nav><p class="brand">${escapeHtml(String(info.title))} ${escapeHtml(String(info.version))}</p>` +
    `<p><a href="/openapi.json">openapi.json</a></p>${nav}</nav>` +
    `<main><h1>${escapeHtml(String(info.title))} API reference</h1><p>${prose(info.description)}</p>` +
    '<p>Every route takes <code>Authorization: Bearer &lt;key&gt;</code>; fields marked * are ' +
    'required. Every error answers this envelope, with <code>x-request-id</code>:</p>' +
    `${schemaBlock(errorSchema)}${main}</main></body></html>\n`
  );
}

/** The page's stylesheet (served at `/docs/style.css`). */
export const DOCS_CSS = `:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6474;--bg:#fff;--panel:#f4f6f9;--line:#d9dee6;--accent:#07c160}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--bg:#14171c;--panel:#1d2128;--line:#2c323c}}
*{box-sizing:border-box}body{margin:0;display:flex;font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:20rem;flex:none;padding:1rem;border-right:1px solid var(--line);background:var(--panel);font-size:13px}
nav ul{list-style:none;padding:0;margin:0 0 1rem}nav li{margin:.15rem 0;overflow-wrap:anywhere}nav h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;margin:1rem 0 .3rem}
.brand{font-weight:700;font-size:16px;margin:0 0 .5rem}a{color:inherit}nav a{text-decoration:none}nav a:hover{text-decoration:underline}
main{padding:1.5rem 2.5rem;max-width:60rem;min-width:0}h1{margin-top:0}h2{border-bottom:2px solid var(--accent);padding-bottom:.2rem;margin-top:2.5rem}
section{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem .6rem;margin:1rem 0}h3{font-size:16px;word-break:break-all}h4{margin:.8rem 0 .3rem}
.method{display:inline-block;min-width:3.6rem;text-align:center;border-radius:4px;padding:0 .4rem;color:#fff;background:#6b7280;font-size:12px}
.get{background:#2563eb}.post{background:#059669}.put,.patch{background:#d97706}.delete{background:#dc2626}
.summary{font-weight:600}table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:left;border-bottom:1px solid var(--line);padding:.25rem .5rem;vertical-align:top;overflow-wrap:anywhere}
pre{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:.5rem;overflow:auto;font-size:12px;max-height:24rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}.status{font-weight:700}.type{color:var(--muted);margin:.3rem 0 0;font-size:13px}
ul.responses{padding-left:1.2rem}
@media (max-width:800px){body{display:block}nav{position:static;height:auto;width:auto}main{padding:1rem}}
`;
