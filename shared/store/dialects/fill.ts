import { is, Param, Placeholder } from 'drizzle-orm';

/** Fills a statement's parameters from placeholder values (see {@link placeholderFiller}). */
export type Filler = (values: Record<string, unknown>) => unknown[];

type Slot = { value: unknown } | { name: string; map: (v: unknown) => unknown };

/**
 * drizzle's `fillPlaceholders` for the parameters of one built statement, worked out once: each is
 * a value of its own or a placeholder filled through its column's mapping, as drizzle's prepared
 * statements fill them, without drizzle's class checks on every parameter of every call (the
 * statements of every push run through here).
 */
export function placeholderFiller(params: readonly unknown[]): Filler {
  const slots: Slot[] = params.map((p) => {
    if (is(p, Placeholder)) return { name: p.name, map: (v: unknown) => v };
    if (is(p, Param) && is(p.value, Placeholder)) {
      const { encoder } = p;
      return { name: p.value.name, map: (v: unknown) => encoder.mapToDriverValue(v) };
    }
    return { value: p };
  });
  return (values) =>
    slots.map((s) => {
      if ('value' in s) return s.value;
      if (!(s.name in values)) throw new Error(`No value for placeholder "${s.name}" was provided`);
      return s.map(values[s.name]);
    });
}
