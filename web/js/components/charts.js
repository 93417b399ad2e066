// Small SVG charts (no library): vertical bars, horizontal bars and a donut.
// Each takes [{label, value, title?}] and returns an <svg> that scales to its container.

import { h, svg } from "./dom.js";

const PALETTE = ["#4f8cff", "#2ec4a6", "#f5a524", "#e5568a", "#9b7bff", "#5ac8fa", "#ff7a45", "#a3d65c"];

/** An axis maximum whose quarters are whole, round numbers (the bar chart counts things). */
function niceMax(value) {
  if (value <= 4) return 4;
  const quarter = value / 4;
  const power = 10 ** Math.floor(Math.log10(quarter));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * power).find((s) => s >= quarter && Number.isInteger(s));
  return 4 * (step || 10 * power);
}

/** Vertical bars with a value axis; `labelEvery` thins the category labels. */
export function barChart(data, { height = 200, format = String, labelEvery = 1, color = PALETTE[0], name = "" } = {}) {
  const width = 640;
  const pad = { top: 12, right: 8, bottom: 26, left: 40 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = niceMax(Math.max(0, ...data.map((d) => d.value)));
  const band = innerW / Math.max(1, data.length);
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": name });
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.top + innerH - (innerH * i) / 4;
    root.append(svg("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: y, y2: y }),
      svg("text", { class: "axis", x: pad.left - 6, y: y + 4, "text-anchor": "end" }, format((max * i) / 4)));
  }
  data.forEach((d, i) => {
    const barH = (innerH * d.value) / max;
    const x = pad.left + i * band + band * 0.15;
    root.append(svg("rect", {
      class: "bar", x, y: pad.top + innerH - barH, width: Math.max(1, band * 0.7), height: Math.max(0, barH),
      rx: 2, fill: d.color || color,
    }, svg("title", {}, d.title || `${d.label}: ${format(d.value)}`)));
    if (i % labelEvery === 0) {
      root.append(svg("text", { class: "axis", x: x + band * 0.35, y: height - 8, "text-anchor": "middle" }, d.label));
    }
  });
  return root;
}

/** Horizontal bars: one row per item, the value printed at the bar's end. */
export function hBarChart(data, { format = String, color = PALETTE[1], name = "" } = {}) {
  const row = 28;
  const width = 640;
  const labelW = 150;
  const valueW = 70;
  const height = Math.max(row, data.length * row) + 8;
  const max = Math.max(1e-9, ...data.map((d) => d.value));
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": name });
  data.forEach((d, i) => {
    const y = 4 + i * row;
    const barW = ((width - labelW - valueW) * d.value) / max;
    root.append(
      svg("text", { class: "axis label", x: labelW - 8, y: y + row / 2 + 4, "text-anchor": "end" }, truncate(d.label, 20)),
      svg("rect", { class: "bar", x: labelW, y: y + 5, width: Math.max(2, barW), height: row - 10, rx: 3, fill: d.color || color },
        svg("title", {}, d.title || `${d.label}: ${format(d.value)}`)),
      svg("text", { class: "value", x: labelW + Math.max(2, barW) + 6, y: y + row / 2 + 4 }, format(d.value)));
  });
  return root;
}

/** A donut with a legend beside it. */
export function donutChart(data, { format = String, name = "" } = {}) {
  const total = data.reduce((sum, d) => sum + Math.max(0, d.value), 0);
  const size = 160;
  const r = 60;
  const circumference = 2 * Math.PI * r;
  const root = svg("svg", { class: "chart donut", viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": name });
  root.append(svg("circle", { cx: size / 2, cy: size / 2, r, fill: "none", class: "donut-track", "stroke-width": 22 }));
  let offset = 0;
  data.forEach((d, i) => {
    if (!total || d.value <= 0) return;
    const length = (circumference * d.value) / total;
    root.append(svg("circle", {
      cx: size / 2, cy: size / 2, r, fill: "none", stroke: d.color || PALETTE[i % PALETTE.length], "stroke-width": 22,
      "stroke-dasharray": `${length} ${circumference - length}`, "stroke-dashoffset": -offset,
      transform: `rotate(-90 ${size / 2} ${size / 2})`,
    }, svg("title", {}, `${d.label}: ${format(d.value)}`)));
    offset += length;
  });
  root.append(svg("text", { class: "donut-total", x: size / 2, y: size / 2 + 6, "text-anchor": "middle" }, format(total)));
  const legend = h("ul", { class: "legend" }, data.map((d, i) => h("li", {},
    h("span", { class: "swatch", style: { background: d.color || PALETTE[i % PALETTE.length] } }),
    `${d.label} `, h("span", { class: "muted", text: format(d.value) }))));
  return h("div", { class: "donut-wrap" }, root, legend);
}

function truncate(text, n) {
  const s = String(text);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export { PALETTE };
