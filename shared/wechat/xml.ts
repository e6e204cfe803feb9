import { isBranded } from '../http/errors';
/**
 * The XML WeChat pushes and accepts: one `<xml>` root of elements holding text, CDATA or nested
 * elements (`<PicList><item>…</item></PicList>`). No attributes are needed, and DOCTYPE, entity
 * declarations and processing instructions are refused outright, so no entity expansion or
 * external reference can happen.
 */

/** A parsed element: text, nested fields, or a list when a tag repeats. */
export type XmlValue = string | XmlFields | XmlValue[];
export interface XmlFields {
  [tag: string]: XmlValue;
}

const XML_ERROR = Symbol.for('wxhub.XmlError');

/** Malformed or refused XML; the message says where. */
export class XmlError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, XML_ERROR);
  }
  readonly [XML_ERROR] = true;
  override readonly name = 'XmlError';
}

const NAME = /[A-Za-z_][\w.-]*/y;
const ENTITY: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const MAX_DEPTH = 16;

function decodeEntities(text: string, at: number): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[a-z]+);|&/g, (whole, ref?: string) => {
    if (ref === undefined) throw new XmlError(`bare & in text near offset ${at}`);
    if (ref.startsWith('#')) {
      const code =
        ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) {
        throw new XmlError(`bad character reference ${whole} near offset ${at}`);
      }
      return String.fromCodePoint(code);
    }
    const value = ENTITY[ref];
    if (value === undefined) throw new XmlError(`unknown entity ${whole} near offset ${at}`);
    return value;
  });
}

/** One parse: the input and the offset reached (methods, not closures made per parse). */
class Parser {
  pos = 0;
  constructor(readonly input: string) {}

  fail(what: string): never {
    throw new XmlError(`${what} at offset ${this.pos}`);
  }

  skipSpace(): void {
    const { input } = this;
    while (this.pos < input.length && /\s/.test(input[this.pos] ?? '')) this.pos++;
  }

  skipMisc(prolog: boolean): void {
    const { input } = this;
    for (;;) {
      this.skipSpace();
      if (input.startsWith('<!--', this.pos)) {
        const end = input.indexOf('-->', this.pos + 4);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 3;
      } else if (input.startsWith('<?', this.pos)) {
        // Only the XML declaration, and only before the root element.
        if (!prolog || !/^<\?xml[\s?]/.test(input.slice(this.pos, this.pos + 6))) {
          this.fail('processing instructions are not accepted');
        }
        prolog = false;
        const end = input.indexOf('?>', this.pos);
        if (end < 0) this.fail('unterminated XML declaration');
        this.pos = end + 2;
      } else if (input.startsWith('<!', this.pos) && !input.startsWith('<![CDATA[', this.pos)) {
        this.fail('DOCTYPE and declarations are not accepted');
      } else {
        return;
      }
    }
  }

  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.input);
    if (m === null) return this.fail('expected an element name');
    this.pos += m[0].length;
    return m[0];
  }

  /** Returns the element's value: text (with CDATA) when it has no child elements. */
  element(depth: number): [string, XmlValue] {
    const { input } = this;
    if (depth > MAX_DEPTH) this.fail('elements nested too deeply');
    if (input[this.pos] !== '<') this.fail('expected <');
    this.pos++;
    const tag = this.name();
    this.skipSpace();
    if (input.startsWith('/>', this.pos)) {
      this.pos += 2;
      return [tag, ''];
    }
    if (input[this.pos] !== '>') this.fail(`attributes are not accepted on <${tag}>`);
    this.pos++;
    let text = '';
    let fields: XmlFields | undefined;
    for (;;) {
      const pos = this.pos;
      if (pos >= input.length) this.fail(`unterminated <${tag}>`);
      if (input.startsWith('<![CDATA[', pos)) {
        const end = input.indexOf(']]>', pos + 9);
        if (end < 0) this.fail('unterminated CDATA');
        text += input.slice(pos + 9, end);
        this.pos = end + 3;
      } else if (input.startsWith('<!--', pos)) {
        const end = input.indexOf('-->', pos + 4);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 3;
      } else if (input.startsWith('</', pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== tag) this.fail(`</${closing}> closes <${tag}>`);
        this.skipSpace();
        if (input[this.pos] !== '>') this.fail(`expected > after </${closing}`);
        this.pos++;
        if (fields === undefined) return [tag, text];
        if (text.trim() !== '') this.fail(`<${tag}> mixes text and elements`);
        return [tag, fields];
      } else if (input[pos] === '<') {
        if (input[pos + 1] === '!' || input[pos + 1] === '?') {
          this.fail('declarations are not accepted');
        }
        const [childTag, value] = this.element(depth + 1);
        // Null prototype: tags such as __proto__ or toString are stored as sent.
        fields ??= Object.create(null) as XmlFields;
        const prior = fields[childTag];
        if (prior === undefined) fields[childTag] = value;
        else if (Array.isArray(prior)) prior.push(value);
        else fields[childTag] = [prior, value];
      } else {
        const next = input.indexOf('<', pos);
        const end = next < 0 ? input.length : next;
        text += decodeEntities(input.slice(pos, end), pos);
        this.pos = end;
      }
    }
  }
}

/**
 * Parses a WeChat push. Returns the fields of the root element (named `xml` by WeChat, any name
 * accepted).
 *
 * @example parseXml('<xml><MsgType><![CDATA[text]]></MsgType></xml>') // { MsgType: 'text' }
 * @throws XmlError with the offset of the first problem
 */
export function parseXml(input: string): XmlFields {
  const p = new Parser(input);
  p.skipMisc(true);
  if (input[p.pos] !== '<') p.fail('expected the root element');
  const [, root] = p.element(0);
  p.skipMisc(false);
  if (p.pos !== input.length) p.fail('content after the root element');
  if (typeof root === 'string') {
    if (root.trim() !== '') p.fail('the root element holds text, not fields');
    return {};
  }
  if (Array.isArray(root)) return p.fail('unexpected list at the root');
  return root;
}

const cdata = (text: string) => `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

function renderValue(tag: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => renderValue(tag, v)).join('');
  if (typeof value === 'number' || typeof value === 'bigint') return `<${tag}>${value}</${tag}>`;
  if (typeof value === 'string') return `<${tag}>${cdata(value)}</${tag}>`;
  if (typeof value === 'boolean') return `<${tag}>${value ? 1 : 0}</${tag}>`;
  if (value !== null && typeof value === 'object') {
    return `<${tag}>${Object.entries(value)
      .map(([k, v]) => renderValue(k, v))
      .join('')}</${tag}>`;
  }
  return '';
}

/**
 * Renders fields as WeChat's XML: strings in CDATA, numbers bare, objects nested, arrays as
 * repeated elements (`{ Articles: { item: [a, b] } }` → `<Articles><item>…</item><item>…</item>`).
 * Tag names must be element names; anything else throws.
 */
export function buildXml(fields: Record<string, unknown>, root = 'xml'): string {
  const check = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(check);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (!/^[A-Za-z_][\w.-]*$/.test(k)) throw new XmlError(`"${k}" is not an element name`);
        check(v);
      }
    }
  };
  check(fields);
  return renderValue(root, fields);
}
