// Charts drawn as SVG by hand. Each is an image with a text alternative (role="img" and an
// aria-label); the views also give the same numbers as text or tables.

import { number, s } from './util.js';

// A horizontal bar on a 0-100 scale, split into coloured segments.
// segments: [{ value, color, label }]
export function stackedBar(segments, { label, max = 100 } = {}) {
  const svg = s('svg', {
    class: 'stacked', viewBox: `0 0 ${max} 10`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label,
  });
  svg.append(s('rect', { class: 'track', x: 0, y: 0, width: max, height: 10 }));
  let x = 0;
  for (const segment of segments) {
    if (!(segment.value > 0)) continue;
    const width = Math.min(segment.value, max - x);
    svg.append(s('rect', { x, y: 0, width, height: 10, fill: segment.color },
      s('title', null, `${segment.label}: ${number(segment.value)} points`)));
    x += width;
  }
  return svg;
}

// A small line chart of one series: points [{ label, value }].
export function sparkline(points, { label, width = 160, height = 40 } = {}) {
  const svg = s('svg', {
    class: 'sparkline', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label,
  });
  const values = points.map((point) => point.value);
  if (!values.length) return svg;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = 4;
  const x = (i) => (points.length === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v) => (max === min ? height / 2 : height - pad - ((v - min) * (height - 2 * pad)) / (max - min));
  if (points.length > 1) {
    const path = points.map((point, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
    svg.append(s('path', { d: path, class: 'line' }));
  }
  points.forEach((point, i) => {
    svg.append(s('circle', { cx: x(i), cy: y(point.value), r: i === points.length - 1 ? 3 : 2, class: i === points.length - 1 ? 'last' : 'dot' },
      s('title', null, `${point.label}: ${number(point.value, 2)}`)));
  });
  return svg;
}

// Baseline and scenario scores as two bars on a 0-100 scale.
export function compareBars(rows, { label } = {}) {
  const rowHeight = 22;
  const labelWidth = 70;
  const width = 320;
  const svg = s('svg', {
    class: 'compare-bars', viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, role: 'img', 'aria-label': label,
  });
  rows.forEach((row, i) => {
    const y = i * rowHeight + 2;
    const scale = (width - labelWidth - 48) / 100;
    svg.append(
      s('text', { x: 0, y: y + 14, class: 'axis-label' }, row.label),
      s('rect', { x: labelWidth, y: y + 2, width: 100 * scale, height: 16, class: 'track' }),
      s('rect', { x: labelWidth, y: y + 2, width: Math.max(0, (row.value ?? 0) * scale), height: 16, class: row.className }),
      s('text', { x: labelWidth + 100 * scale + 6, y: y + 14, class: 'value-label' }, row.value === null ? 'unranked' : number(row.value)),
    );
  });
  return svg;
}

// A signed change, as a bar left (worse) or right (better) of a centre line.
export function deltaBar(delta, { label, range = 20 } = {}) {
  const width = 120;
  const centre = width / 2;
  const length = Math.min(Math.abs(delta), range) * (centre / range);
  const svg = s('svg', { class: 'delta', viewBox: `0 0 ${width} 12`, role: 'img', 'aria-label': label });
  svg.append(s('line', { x1: centre, x2: centre, y1: 0, y2: 12, class: 'axis' }));
  if (delta) {
    svg.append(s('rect', { x: delta > 0 ? centre : centre - length, y: 2, width: length, height: 8, class: delta > 0 ? 'up' : 'down' }));
  }
  return svg;
}
