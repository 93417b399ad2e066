// A sightings timeline: one lane per camera, one mark per sighting, time left to right.
// Marks are focusable and toggle selection (click, Enter or Space), which drives "split".

import { PALETTE } from "./charts.js";
import { svg } from "./dom.js";
import { toDate, when } from "./format.js";

const LANE = 30;
const LABEL_W = 130;
const WIDTH = 900;
const AXIS_H = 24;

/**
 * @param sightings [{id, camera_id, ts, end_ts}]
 * @param cameraName (id) → label
 * @param selected Set of sighting ids (read for styling)
 * @param onToggle (id) → void
 */
export function sightingTimeline(sightings, cameraName, { selected = new Set(), onToggle = null } = {}) {
  const marks = sightings
    .map((s) => ({ ...s, start: toDate(s.ts), end: toDate(s.end_ts) || toDate(s.ts) }))
    .filter((s) => s.start);
  const cameras = [...new Set(marks.map((s) => s.camera_id))].sort((a, b) => a - b);
  const height = AXIS_H + Math.max(1, cameras.length) * LANE + 6;
  const root = svg("svg", { class: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, role: "group", "aria-label": "Sightings timeline" });
  if (!marks.length) return root;

  let t0 = Math.min(...marks.map((s) => s.start.getTime()));
  let t1 = Math.max(...marks.map((s) => s.end.getTime()));
  if (t1 - t0 < 60_000) {
    const mid = (t0 + t1) / 2;
    t0 = mid - 30_000;
    t1 = mid + 30_000;
  }
  const span = t1 - t0;
  const x = (t) => LABEL_W + ((WIDTH - LABEL_W - 10) * (t - t0)) / span;

  for (let i = 0; i <= 4; i += 1) {
    const t = t0 + (span * i) / 4;
    const px = x(t);
    root.append(svg("line", { class: "grid", x1: px, x2: px, y1: AXIS_H - 4, y2: height }),
      svg("text", { class: "axis", x: px, y: 14, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" }, when(new Date(t))));
  }
  cameras.forEach((cameraId, lane) => {
    const y = AXIS_H + lane * LANE;
    root.append(svg("rect", { class: "lane", x: 0, y, width: WIDTH, height: LANE - 2 }),
      svg("text", { class: "axis label", x: 8, y: y + LANE / 2 + 3 }, cameraName(cameraId)));
  });
  for (const s of marks) {
    const lane = cameras.indexOf(s.camera_id);
    const px = x(s.start.getTime());
    const w = Math.max(5, x(s.end.getTime()) - px);
    const isSelected = selected.has(s.id);
    const mark = svg("rect", {
      class: ["mark", isSelected ? "selected" : ""].join(" "), x: px, y: AXIS_H + lane * LANE + 5, width: w, height: LANE - 12, rx: 3,
      fill: PALETTE[lane % PALETTE.length], tabindex: onToggle ? 0 : null, role: onToggle ? "checkbox" : null,
      "aria-checked": onToggle ? String(isSelected) : null, "data-sighting": s.id,
      "aria-label": `Sighting ${s.id} on ${cameraName(s.camera_id)} at ${when(s.start)}`,
    }, svg("title", {}, `#${s.id} · ${cameraName(s.camera_id)} · ${when(s.start)}${s.match_kind ? ` · ${s.match_kind}` : ""}`));
    if (onToggle) {
      mark.addEventListener("click", () => onToggle(s.id));
      mark.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          onToggle(s.id);
        }
      });
    }
    root.append(mark);
  }
  return root;
}
