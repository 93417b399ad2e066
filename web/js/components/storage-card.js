// The recording store in the System view: the disk (free space, the floor retention keeps,
// the cap) and, per camera, what its recordings take, how far back they reach, what a day
// costs and how much of today was recorded.

import { h } from "./dom.js";
import { bytes, duration, number } from "./format.js";

function coverageBadge(share) {
  if (share === null || share === undefined) return h("span", { class: "muted", text: "—" });
  const state = share >= 0.99 ? "online" : share >= 0.9 ? "connecting" : "error";
  return h("span", { class: `badge badge-${state}` }, `${(share * 100).toFixed(1)} %`);
}

function held(days) {
  if (!days) return "—";
  return days < 1 ? duration(days * 86400) : `${number(days, 1)} days`;
}

/** `recording`: the system info's `recording` (api.system.info); `cameraName(id)` labels the rows. */
export function storageCard(recording, cameraName) {
  if (!recording) {
    return h("section", { class: "card wide storage" }, h("h2", { text: "Recording storage" }),
      h("p", { class: "muted", text: "This server does not report its recordings." }));
  }
  const total = Number(recording.disk_total_bytes) || 0;
  const free = Number(recording.disk_free_bytes) || 0;
  const used = Math.max(0, total - free);
  const share = total ? Math.min(1, used / total) : 0;
  const low = free <= Number(recording.min_free_bytes || 0);
  const cameras = recording.cameras || [];
  return h("section", { class: "card wide storage", "aria-label": "Recording storage" },
    h("h2", { text: "Recording storage" }),
    h("div", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": used, "aria-label": "Disk used" },
      h("div", { class: ["meter-fill", low || share > 0.9 ? "hot" : ""], style: { width: `${(share * 100).toFixed(1)}%` } })),
    h("p", {}, `Recordings ${bytes(recording.recordings_bytes)} · disk ${bytes(free)} free of ${bytes(total)}`,
      ` · retention keeps ${bytes(recording.min_free_bytes)} free`,
      ` · cap ${Number(recording.cap_bytes) ? bytes(recording.cap_bytes) : "none"}`),
    low ? h("p", { class: "notice", text: "The disk is at its free-space floor: the oldest continuous footage is being deleted." }) : null,
    cameras.length ? h("div", { class: "table-wrap" }, h("table", { class: "table storage-table" },
      h("thead", {}, h("tr", {}, ["Camera", "Stored", "Held", "Per day", "Recorded today", "Not recorded", ""].map((t) => h("th", { text: t })))),
      h("tbody", {}, cameras.map((c) => h("tr", { dataset: { camera: c.camera_id } },
        h("td", {}, h("a", { href: `#/live/${c.camera_id}` }, cameraName(c.camera_id))),
        h("td", { class: "num", title: `${c.segments} segments` }, bytes(c.bytes)),
        h("td", { class: "num" }, held(c.days_held)),
        h("td", { class: "num" }, `${bytes(Number(c.gb_per_day) * 1e9)}/day`),
        h("td", { class: "num" }, coverageBadge(c.coverage_today)),
        h("td", { class: "num muted" }, c.gap_seconds ? duration(c.gap_seconds) : "—"),
        h("td", { class: "actions" }, h("a", { class: "btn btn-small", href: `#/recordings/${c.camera_id}` }, "Timeline"))))))) : h("p", { class: "muted", text: "No camera has recorded yet." }));
}
