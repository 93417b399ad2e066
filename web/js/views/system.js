// System: what this Iris runs on — backend, models, GPU memory, camera workers, recording
// storage per camera, Ray dashboard.

import { roleLabel } from "../access.js";
import { h, loadAndRefresh, pageHeader, replace, spinner } from "../components/dom.js";
import { ago, mebibytes, number } from "../components/format.js";
import { cameraNamer } from "../components/status.js";
import { storageCard } from "../components/storage-card.js";
import { api } from "../endpoints.js";

const REFRESH_MS = 5000;

function facts(rows) {
  return h("dl", { class: "meta" }, rows.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

function yesNo(ok, yes = "available", no = "unavailable") {
  return h("span", { class: `badge ${ok ? "badge-online" : "badge-error"}` }, h("span", { class: `dot ${ok ? "dot-online" : "dot-error"}` }), ok ? yes : no);
}

// Before the first camera the models are not loaded yet: waiting, not a fault.
function modelBadge(ok, standby, yes) {
  if (!ok && standby) {
    return h("span", { class: "badge badge-connecting" }, h("span", { class: "dot dot-connecting" }), "standby");
  }
  return yesNo(ok, yes);
}

function gpuCard(gpu) {
  const used = Number(gpu && gpu.used_mb);
  const total = Number(gpu && gpu.total_mb);
  if (!gpu || !Number.isFinite(total) || total <= 0) {
    return h("section", { class: "card" }, h("h2", { text: "GPU memory" }), h("p", { class: "muted", text: (gpu && (gpu.reason || gpu.error)) || "No GPU visible to this node (running on CPU)." }));
  }
  const share = Math.min(1, Math.max(0, used / total));
  return h("section", { class: "card" }, h("h2", { text: "GPU memory" }),
    h("div", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": used, "aria-label": "GPU memory used" },
      h("div", { class: ["meter-fill", share > 0.9 ? "hot" : ""], style: { width: `${(share * 100).toFixed(1)}%` } })),
    h("p", {}, `${mebibytes(used)} of ${mebibytes(total)} used (${(share * 100).toFixed(0)} %)`),
    gpu.name ? h("p", { class: "muted small", text: gpu.name }) : null);
}

function workersCard(workers) {
  const rows = workers || [];
  return h("section", { class: "card wide" }, h("h2", { text: `Camera workers (${rows.length})` }),
    rows.length ? h("div", { class: "table-wrap" }, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["Camera", "State", "FPS", "Detector", "Detect", "Last frame", "Note"].map((t) => h("th", { text: t })))),
      h("tbody", {}, rows.map((w) => h("tr", {},
        h("td", {}, h("a", { href: `#/live/${w.camera_id}` }, `#${w.camera_id}${w.name ? ` ${w.name}` : ""}`)),
        h("td", {}, h("span", { class: `badge badge-${w.status || "offline"}` }, h("span", { class: `dot dot-${w.status || "offline"}` }), w.status || "unknown")),
        h("td", { class: "num" }, number(w.fps, 1)),
        h("td", {}, w.detector || "—"),
        h("td", { class: "num" }, Number.isFinite(w.detect_latency_ms) ? `${number(w.detect_latency_ms, 0)} ms` : "—"),
        h("td", { class: "muted" }, w.last_seen ? ago(typeof w.last_seen === "number" ? new Date(w.last_seen * 1000) : w.last_seen) : "—"),
        h("td", { class: "muted small" }, w.reason || w.error || "")))))) : h("p", { class: "muted", text: "No camera workers are running." }));
}

export async function mount(root, { signal, rerender }) {
  const body = h("div", {}, spinner("Asking the server…"));
  replace(root, pageHeader("System", "The running instance: versions, models, hardware, workers and storage."), body);
  async function load() {
    // The cameras name the storage rows (workers name only the running ones).
    const [info, cameras] = await Promise.all([api.system.info({ signal }), api.cameras.list({ signal })]);
    const cameraName = cameraNamer(cameras);
    const backend = info.backend || {};
    const models = info.models || {};
    const index = info.face_index || {};
    const user = info.user || {};
    replace(body, h("div", { class: "system-grid" },
      h("section", { class: "card" }, h("h2", { text: "Instance" }), facts([
        ["Version", info.version], ["Python", info.python], ["Platform", info.platform],
        ["Signed in", `${user.email || user.name || "—"} (${user.via || "?"})`],
        ["Role", roleLabel(user) || "—"],
        ["API", h("a", { href: api.system.docsUrl(), class: "api-docs-link" }, "API documentation (OpenAPI)")],
        ["Ray dashboard", info.ray_dashboard ? h("a", { href: info.ray_dashboard, target: "_blank", rel: "noopener" }, "Open the Ray dashboard ↗") : h("span", { class: "muted", text: "not running" })],
      ])),
      h("section", { class: "card" }, h("h2", { text: "Backend" }), facts([
        ["Detector", h("span", {}, `${backend.detector || "—"} `, modelBadge(backend.detector_available, backend.detector_standby))],
        backend.detector_reason ? ["Why", backend.detector_reason] : null,
        ["Device", backend.device],
        ["ONNX providers", (backend.onnx_providers || []).join(", ") || "—"],
        ["Faces", modelBadge(backend.faces_enabled, backend.faces_standby, "enabled")],
      ])),
      h("section", { class: "card" }, h("h2", { text: "Models" }), facts([
        ["YOLO", h("span", { class: "mono small", text: models.yolo || "—" })],
        ["YOLO weights", yesNo(models.yolo_present, "present", "missing")],
        ["InsightFace pack", h("span", { class: "mono small", text: models.insightface || "—" })],
        ["Face index", `${index.status || "—"} · ${index.count ?? 0} faces`],
      ])),
      gpuCard(info.gpu),
      workersCard(info.workers),
      storageCard(info.recording, cameraName)));
  }

  return loadAndRefresh(load, body, rerender, REFRESH_MS);
}
