// Analytics: who is seen when and where, drawn as charts from /api/identities/analytics.

import { api, isUnavailable, offers } from "../api.js";
import { barChart, donutChart, hBarChart } from "../components/charts.js";
import { emptyState, errorState, field, h, pageHeader, replace, spinner, unavailableState } from "../components/dom.js";
import { duration } from "../components/format.js";

const CLASSES = ["person", "car", "truck", "bus", "motorcycle", "bicycle", "dog", "cat"];

const pick = (obj, ...keys) => keys.map((k) => obj[k]).find((v) => v !== undefined && v !== null);
const pretty = (key) => key.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());

/** [{label, value}] for the last 24 hours, whether the API sends a list or a map. */
function hours(byHour) {
  const rows = Array.isArray(byHour)
    ? byHour.map((r) => [pick(r, "hour", "ts", "start", "label"), Number(pick(r, "sightings", "count", "value") || 0)])
    : Object.entries(byHour || {}).map(([k, v]) => [k, Number(typeof v === "object" ? pick(v, "sightings", "count") : v) || 0]);
  return rows.map(([hour, value]) => {
    const asNumber = Number(hour);
    const date = Number.isFinite(asNumber) ? null : new Date(hour);
    const label = date && !Number.isNaN(date.getTime()) ? `${String(date.getHours()).padStart(2, "0")}h` : `${String(hour).padStart(2, "0")}h`;
    return { label, value };
  });
}

function matchKinds(byKind) {
  if (Array.isArray(byKind)) return byKind.map((r) => ({ label: String(pick(r, "match_kind", "kind", "label")), value: Number(pick(r, "count", "sightings", "value") || 0) }));
  return Object.entries(byKind || {}).map(([label, value]) => ({ label, value: Number(value) || 0 }));
}

function chartCard(title, chart, empty) {
  return h("section", { class: "card chart-card" }, h("h2", { text: title }), chart || h("p", { class: "muted", text: empty }));
}

export async function mount(root, { query, signal, setQuery, rerender }) {
  const objectClass = h("select", { class: "input", name: "object_class", value: query.get("object_class") || "person" },
    CLASSES.map((c) => h("option", { value: c }, c)));
  const body = h("div", {}, spinner("Crunching numbers…"));
  replace(root, pageHeader("Analytics", "Sightings over the last day, per camera, and how long people stay.", field("Class", objectClass)), body);

  if (!(await offers("/api/identities"))) {
    replace(body, unavailableState("Analytics"));
    objectClass.disabled = true;
    return;
  }
  const cameras = await api("/api/cameras", { signal }).catch(() => []);
  const cameraName = (row) => row.camera_name || row.name || (cameras.find((c) => c.id === row.camera_id) || {}).name || `Camera ${row.camera_id}`;

  async function load() {
    setQuery({ object_class: objectClass.value === "person" ? "" : objectClass.value });
    replace(body, spinner("Crunching numbers…"));
    let data;
    try {
      data = await api("/api/identities/analytics", { signal, query: { object_class: objectClass.value } });
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(body, isUnavailable(error) ? unavailableState("Analytics", error) : errorState(error, rerender));
      return;
    }
    const summary = data.summary || {};
    const tiles = Object.entries(summary).filter(([, v]) => typeof v === "number")
      .map(([k, v]) => h("div", { class: "stat" }, h("div", { class: "stat-value", text: Number.isInteger(v) ? String(v) : v.toFixed(1) }), h("div", { class: "stat-label", text: pretty(k) })));
    const hourly = hours(data.by_hour);
    const perCamera = (data.by_camera || []).map((row) => ({ ...row, label: cameraName(row) }));
    const sightings = perCamera.map((r) => ({ label: r.label, value: Number(pick(r, "sightings", "num_sightings", "count") || 0) }));
    const distinct = perCamera.map((r) => ({ label: r.label, value: Number(pick(r, "distinct_people", "people", "identities", "distinct") || 0) }));
    const dwell = perCamera.map((r) => ({ label: r.label, value: Number(pick(r, "avg_dwell", "avg_dwell_seconds", "avg_dwell_s", "dwell") || 0) }));
    const kinds = matchKinds(data.by_match_kind);
    const any = (rows) => rows.some((r) => r.value > 0);

    if (!tiles.length && !any(hourly) && !any(sightings)) {
      replace(body, emptyState("Nothing to chart yet", `No ${objectClass.value} sightings have been recorded.`));
      return;
    }
    replace(body,
      tiles.length ? h("div", { class: "stats" }, tiles) : null,
      h("div", { class: "chart-grid" },
        chartCard("Sightings by hour (last 24 h)", any(hourly) ? barChart(hourly, { name: "Sightings by hour", labelEvery: hourly.length > 12 ? 3 : 1, format: (v) => String(Math.round(v)) }) : null, "No sightings in the last 24 hours."),
        chartCard("Sightings by camera", any(sightings) ? hBarChart(sightings, { name: "Sightings by camera", format: (v) => String(Math.round(v)) }) : null, "No sightings yet."),
        chartCard("Distinct identities by camera", any(distinct) ? hBarChart(distinct, { name: "Distinct identities by camera", color: "#9b7bff", format: (v) => String(Math.round(v)) }) : null, "No identities yet."),
        chartCard("Average dwell by camera", any(dwell) ? hBarChart(dwell, { name: "Average dwell by camera", color: "#f5a524", format: duration }) : null, "No presence recorded yet."),
        chartCard("How sightings were matched", any(kinds) ? donutChart(kinds, { name: "Match kinds", format: (v) => String(Math.round(v)) }) : null, "No matches yet.")));
  }
  objectClass.addEventListener("change", load);
  await load();
}
