import { h, s } from './dom';
import { count, hourLabel, niceScale } from './format';
import type { Activity } from './types';

export const SERIES = [
  { key: 'pushes', label: 'Pushes' },
  { key: 'payNotifications', label: 'Pay notifications' },
  { key: 'refreshes', label: 'Refreshes' },
] as const;

const W = 960;
const H = 300;
const M = { top: 18, right: 18, bottom: 34, left: 48 };

/** A smooth path through the points (monotone cubic: never overshoots below zero). */
function smooth(points: [number, number][]): string {
  if (points.length === 0) return '';
  const [first] = points;
  if (first === undefined) return '';
  let d = `M${first[0].toFixed(1)},${first[1].toFixed(1)}`;
  for (let i = 1; i < points.length; i++) {
    const p0 = points[i - 1];
    const p1 = points[i];
    if (p0 === undefined || p1 === undefined) continue;
    const mx = (p0[0] + p1[0]) / 2;
    d += ` C${mx.toFixed(1)},${p0[1].toFixed(1)} ${mx.toFixed(1)},${p1[1].toFixed(1)} ${p1[0].toFixed(1)},${p1[1].toFixed(1)}`;
  }
  return d;
}

/**
 * The last 24 hours of pushes, pay notifications and refreshes as one SVG line chart: gridlines,
 * an hourly axis, a filled area under each series, and a hover band per hour naming its counts.
 * A table of the same numbers follows for keyboards and screen readers.
 */
export function activityChart(a: Activity): HTMLElement {
  const n = Math.max(a.pushes.length, a.payNotifications.length, a.refreshes.length, 1);
  const start = new Date(a.from).getTime();
  const bucketMs = a.bucketSeconds * 1000;
  const values = SERIES.map((x) => a[x.key]);
  const { top, step } = niceScale(Math.max(0, ...values.flat()));
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const x = (i: number) => M.left + (n === 1 ? iw / 2 : (i * iw) / (n - 1));
  const y = (v: number) => M.top + ih - (v / top) * ih;

  const grid = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    grid.push(
      s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      s('text', { class: 'tick', x: M.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, count(v)),
    );
  }
  const ticks = [];
  for (let i = 0; i < n; i += 3) {
    ticks.push(
      s(
        'text',
        { class: 'tick', x: x(i), y: H - 10, 'text-anchor': 'middle' },
        hourLabel(start + i * bucketMs),
      ),
    );
  }
  const series = SERIES.map((_sr, k) => {
    const pts: [number, number][] = (values[k] ?? []).map((v, i) => [x(i), y(v)]);
    const line = smooth(pts);
    const last = pts[pts.length - 1];
    const firstPt = pts[0];
    const area =
      last === undefined || firstPt === undefined
        ? ''
        : `${line} L${last[0].toFixed(1)},${y(0)} L${firstPt[0].toFixed(1)},${y(0)} Z`;
    return s(
      'g',
      { class: `series s${k}` },
      s('path', { class: 'area', d: area }),
      s('path', { class: 'line', d: line }),
      pts.map(([px, py], i) =>
        (values[k]?.[i] ?? 0) > 0 ? s('circle', { class: 'dot', cx: px, cy: py, r: 3 }) : null,
      ),
    );
  });
  const band = iw / Math.max(n - 1, 1);
  const bands = Array.from({ length: n }, (_, i) => {
    const from = hourLabel(start + i * bucketMs);
    const to = hourLabel(start + (i + 1) * bucketMs);
    const text = `${from}–${to}: ${SERIES.map((sr, k) => `${sr.label.toLowerCase()} ${values[k]?.[i] ?? 0}`).join(', ')}`;
    return s(
      'rect',
      { class: 'band', x: x(i) - band / 2, y: M.top, width: band, height: ih },
      s('title', {}, text),
    );
  });
  const chart = s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': `Activity in the last 24 hours: ${SERIES.map((sr, k) => `${(values[k] ?? []).reduce((p, v) => p + v, 0)} ${sr.label.toLowerCase()}`).join(', ')}`,
    },
    grid,
    s('line', { class: 'axis', x1: M.left, x2: W - M.right, y1: y(0), y2: y(0) }),
    ticks,
    series,
    bands,
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    SERIES.map((sr, k) =>
      h('li', {}, h('span', { class: `swatch s${k}`, 'aria-hidden': 'true' }), sr.label),
    ),
  );
  const numbers = h(
    'details',
    { class: 'chart-table' },
    h('summary', {}, 'The numbers, hour by hour'),
    h(
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
            h('th', { scope: 'col' }, 'Hour'),
            SERIES.map((sr) => h('th', { scope: 'col' }, sr.label)),
          ),
        ),
        h(
          'tbody',
          {},
          Array.from({ length: n }, (_, i) =>
            h(
              'tr',
              {},
              h('td', {}, hourLabel(start + i * bucketMs)),
              SERIES.map((_sr, k) => h('td', { class: 'num' }, count(values[k]?.[i] ?? 0))),
            ),
          ),
        ),
      ),
    ),
  );
  return h('div', { class: 'chart-box' }, legend, chart, numbers);
}
