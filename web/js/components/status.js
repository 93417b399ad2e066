// A camera as the views show it: its name, and its state as a badge (online with fps,
// connecting, offline, error with the reason).

import { h } from "./dom.js";

const LABELS = { online: "Online", offline: "Offline", error: "Error", connecting: "Connecting" };

/** `(id) → name` over a camera list; an id it lacks (a deleted camera) reads "Camera <id>". */
export function cameraNamer(cameras) {
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  return (id) => names.get(id) || `Camera ${id}`;
}

export function statusText(camera, { fps = true } = {}) {
  if (!camera.enabled) return "Disabled";
  const label = LABELS[camera.status] || camera.status || "Unknown";
  if (fps && camera.status === "online" && Number(camera.fps) > 0) return `${label} · ${Number(camera.fps).toFixed(1)} fps`;
  return label;
}

/** The badge; an error or offline reason is shown in full beside it and as a tooltip. */
export function statusBadge(camera, { withReason = false, fps = true } = {}) {
  const state = camera.enabled ? camera.status || "offline" : "disabled";
  const reason = camera.status_reason || camera.reason || "";
  return h("span", { class: "status-wrap" },
    h("span", { class: `badge badge-${state}`, title: reason || null },
      h("span", { class: `dot dot-${state}`, "aria-hidden": "true" }), statusText(camera, { fps })),
    withReason && reason && !["online", "disabled", reason].includes(state) ? h("span", { class: "status-reason", text: reason }) : null);
}
