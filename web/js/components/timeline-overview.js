// The whole day at a glance above the day timeline: one bar per hour (recorded share, gaps,
// events), and the part of the day the timeline shows. Clicking an hour zooms to it; dragging
// moves the zoomed view along the day.

import { svg } from "./dom.js";
import { duration } from "./format.js";
import { HOUR, tickLabel } from "./timeline-scale.js";

const HEIGHT = 46;
const BAR_TOP = 4;
const BAR_H = 24;
const PAD_X = 8;

/**
 * @param onPick (t, {drag}) → void: a time of the day was clicked (or dragged to).
 * Returns {el, draw({day, hours, view, width})}.
 */
export function dayOverview({ onPick }) {
  const el = svg("svg", { class: "tl-overview", height: HEIGHT, role: "img", "aria-label": "Recorded hours of the day" });
  let last = null;
  let dragging = null;

  const timeAt = (clientX) => {
    if (!last) return null;
    const box = el.getBoundingClientRect();
    const inner = Math.max(1, box.width - 2 * PAD_X);
    const share = Math.min(1, Math.max(0, (clientX - box.left - PAD_X) / inner));
    return last.day.start + share * (last.day.end - last.day.start);
  };

  el.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !last) return;
    el.setPointerCapture(event.pointerId);
    dragging = { x: event.clientX, moved: false };
  });
  el.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    if (Math.abs(event.clientX - dragging.x) > 4) dragging.moved = true;
    if (dragging.moved) onPick(timeAt(event.clientX), { drag: true });
  });
  el.addEventListener("pointerup", (event) => {
    if (!dragging) return;
    const { moved } = dragging;
    dragging = null;
    onPick(timeAt(event.clientX), { drag: moved });
  });
  el.addEventListener("pointercancel", () => { dragging = null; });

  /** Redraw for `day` {start, end}, the summary's `hours`, the timeline's `view`. */
  function draw({ day, hours, view, width }) {
    last = { day };
    const inner = Math.max(1, width - 2 * PAD_X);
    const x = (t) => PAD_X + ((t - day.start) / (day.end - day.start)) * inner;
    el.replaceChildren();
    el.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    el.setAttribute("width", String(width));
    el.append(svg("rect", { class: "tl-lane", x: PAD_X, y: BAR_TOP, width: inner, height: BAR_H, rx: 3 }));
    for (const hour of hours) {
      const start = new Date(hour.start).getTime();
      const left = x(start) + 1;
      const w = Math.max(1, x(start + HOUR) - x(start) - 2);
      const recorded = Math.min(1, hour.recorded_seconds / 3600);
      const gap = Math.min(1 - recorded, hour.gap_seconds / 3600);
      const labels = Object.entries(hour.labels || {}).map(([label, n]) => `${label} ${n}`).join(", ");
      const title = `${tickLabel(start, HOUR)}: ${duration(hour.recorded_seconds)} recorded`
        + `${hour.gap_seconds ? `, ${duration(hour.gap_seconds)} missing` : ""}`
        + `${hour.events ? ` · ${hour.events} event${hour.events === 1 ? "" : "s"} (${labels})` : ""}`;
      const bar = svg("g", { class: "tl-hour", "data-hour": start }, svg("title", {}, title));
      if (recorded > 0) {
        const tall = Math.max(2, BAR_H * recorded); // a minute of footage still shows
        bar.append(svg("rect", { class: "tl-hour-rec", x: left, width: w, y: BAR_TOP + BAR_H - tall, height: tall }));
      }
      if (gap > 0) {
        bar.append(svg("rect", { class: "tl-hour-gap", x: left, width: w, y: BAR_TOP, height: Math.max(2, BAR_H * gap) }));
      }
      if (hour.events) {
        bar.append(svg("circle", { class: "tl-hour-events", cx: left + w / 2, cy: BAR_TOP + 5, r: Math.min(4, 2 + Math.log2(hour.events)) }));
      }
      bar.append(svg("rect", { class: "tl-hour-hit", x: left - 1, width: w + 2, y: BAR_TOP, height: BAR_H }));
      el.append(bar);
    }
    for (let t = day.start; t < day.end; t += 3 * HOUR) {
      el.append(svg("text", { class: "axis", x: x(t), y: HEIGHT - 4, "text-anchor": t === day.start ? "start" : "middle" }, tickLabel(t, HOUR)));
    }
    const whole = view.end - view.start >= day.end - day.start - 1000;
    if (!whole) {
      el.append(svg("rect", { class: "tl-viewport", x: x(view.start), y: BAR_TOP - 2, width: Math.max(3, x(view.end) - x(view.start)), height: BAR_H + 4, rx: 3 }));
    }
  }

  return { el, draw };
}
