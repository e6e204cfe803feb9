import { describe, expect, it } from 'vitest';
import { ExactJsonError, numberText, parseExactJson, stringifyExactJson } from './exact-json';

describe('exact JSON', () => {
  it('keeps 64-bit integers exact that JSON.parse would round', () => {
    const text = '{"MsgId":23456789012345113,"Other":9007199254740993,"Small":42}';
    // What JSON.parse does: two different ids become one number.
    expect(JSON.parse('23456789012345113')).toBe(JSON.parse('23456789012345112'));
    const v = parseExactJson(text) as Record<string, unknown>;
    expect(numberText(v.MsgId)).toBe('23456789012345113');
    expect(numberText(v.Other)).toBe('9007199254740993');
    expect(v.Small).toBe(42);
    expect(stringifyExactJson(v)).toBe(text);
  });

  it('reads every other value as JSON.parse does', () => {
    const text =
      '{"a":[1,2.5,-3,true,false,null],"b":{"c":"\\u4e2d\\"x\\""},"d":1.2345678901234567,"e":1e400}';
    const v = parseExactJson(text) as Record<string, unknown>;
    expect(v.a).toEqual([1, 2.5, -3, true, false, null]);
    expect(v.b).toEqual({ c: '中"x"' });
    // Digits a double cannot hold are kept as written.
    expect(stringifyExactJson(v)).toBe(
      '{"a":[1,2.5,-3,true,false,null],"b":{"c":"中\\"x\\""},"d":1.2345678901234567,"e":1e400}',
    );
  });

  it('writes what JSON.stringify writes, and exact numbers however deep they sit', () => {
    const plain = [
      { a: 1, b: 'x\u2028y"\\', c: [1, 2, { d: null }], e: undefined, f: () => 1 },
      { n: 1e21, m: -0, k: Number.NaN, i: Number.POSITIVE_INFINITY, s: '\ud800' },
      [undefined, () => 1, Symbol('x')],
      { date: new Date(0), nested: { deep: [[[]]] }, é: 'ü' },
      'text',
      5,
      null,
      true,
    ];
    for (const v of plain) expect(stringifyExactJson(v)).toBe(JSON.stringify(v) ?? 'null');
    const exact = parseExactJson('{"a":[{"b":[1,{"MsgId":23456789012345113}]}],"c":"d"}');
    expect(stringifyExactJson(exact)).toBe('{"a":[{"b":[1,{"MsgId":23456789012345113}]}],"c":"d"}');
    expect(stringifyExactJson({ id: [2n ** 64n] })).toBe('{"id":[18446744073709551616]}');
  });

  it('makes __proto__ an own property, never the prototype', () => {
    for (const text of [
      '{"__proto__":{"x":1}}',
      '{"__proto__":{"x":1},"n":12345678901234567890}',
    ]) {
      const v = parseExactJson(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.hasOwn(v, '__proto__')).toBe(true);
      expect((v as { x?: unknown }).x).toBeUndefined();
    }
  });

  it('refuses text that is not JSON, and nesting deeper than 64 levels', () => {
    expect(() => parseExactJson('{"a":')).toThrow(ExactJsonError);
    expect(() => parseExactJson('{"a":12345678901234567890,')).toThrow('is not valid JSON');
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(parseExactJson(deep(64))).toBeInstanceOf(Array);
    expect(() => parseExactJson(deep(65))).toThrow('nests deeper than 64 levels');
    expect(() => parseExactJson(`{"s":"${'['.repeat(100)}"}`)).not.toThrow();
    expect(() => parseExactJson(`{"s":"\\"${'['.repeat(100)}"}`)).not.toThrow();
  });

  it('gives the text of numbers only', () => {
    expect(numberText(12)).toBe('12');
    expect(numberText(10n ** 20n)).toBe('100000000000000000000');
    expect(numberText('12')).toBeUndefined();
    expect(numberText(Number.NaN)).toBeUndefined();
    expect(numberText({ value: '1' })).toBeUndefined();
  });
});
