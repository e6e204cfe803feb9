const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-11-30 08:15:02` in the browser's time zone. */
export function absolute(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `1 h 5 min`, `42 s`, `3 d 2 h`: a duration, two units at most. */
export function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 === 0 ? `${hours} h` : `${hours} h ${m % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** `5 min ago`, `in 2 h`: `iso` relative to `now`. */
export function relative(iso: string, now = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const seconds = (t - now) / 1000;
  if (Math.abs(seconds) < 5) return 'just now';
  return seconds < 0 ? `${duration(seconds)} ago` : `in ${duration(seconds)}`;
}

/** `HH:00` of a time: the chart's axis. */
export function hourLabel(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A value for `<input type="datetime-local">` from an ISO time, and back. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string {
  if (value === '') return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** `1,234` */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The y axis for counts up to `max`: a step of 1, 2, 2.5 or 5 times a power of ten (never a
 * fraction) giving at most 5 gridlines, and the first multiple of it at or above `max`.
 * 0–5 → 5 by 1, 37 → 40 by 10, 1234 → 1250 by 250.
 */
export function niceScale(max: number): { top: number; step: number } {
  if (max <= 5) return { top: 5, step: 1 };
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const factors = magnitude === 1 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  const step = (factors.find((f) => f * magnitude >= raw) ?? 10) * magnitude;
  return { top: Math.ceil(max / step) * step, step };
}
