// Analytics: who is seen when and where, drawn as charts from the identities' analytics.

import { barChart, donutChart, hBarChart } from "../components/charts.js";
import { errorState, field, h, pageHeader, replace, spinner } from "../components/dom.js";
import { duration } from "../components/format.js";
import { api } from "../endpoints.js";

const CLASSES = ["person", "car", "truck", "bus", "motorcycle", "bicycle", "dog", "cat"];

const pretty = (key) => key.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());

/** [{label, value}] for the last 24 hours: "14h" in the browser's time zone. */
const hours = (byHour) => byHour.map((bucket) => ({
  label: `${String(new Date(bucket.hour).getHours()).padStart(2, "0")}h`, value: bucket.sightings,
}));

const matchKinds = (byKind) => Object.entries(byKind).map(([label, value]) => ({ label, value }));

function chartCard(title, chart, empty) {
  return h("section", { class: "card chart-card" }, h("h2", { text: title }), chart || h("p", { class: "muted", text: empty }));
}

export async function mount(root, { query, signal, setQuery, rerender }) {
  const objectClass = h("select", { class: "input", name: "object_class", value: query.get("object_class") || "person" },
    CLASSES.map((c) => h("option", { value: c }, c)));
  const body = h("div", {}, spinner("Crunching numbers…"));
  replace(root, pageHeader("Analytics", "Sightings over the last day, per camera, and how long people stay.", field("Class", objectClass)), body);

  const cameraName = (row) => row.name || `Camera ${row.camera_id}`;

  async function load() {
    setQuery({ object_class: objectClass.value === "person" ? "" : objectClass.value });
    replace(body, spinner("Crunching numbers…"));
    let data;
    try {
      data = await api.identities.analytics({ object_class: objectClass.value }, { signal });
    } catch (error) {
      if (error.name !== "AbortError") replace(body, errorState(error, rerender));
      return;
    }
    const tiles = Object.entries(data.summary)
      .map(([k, v]) => h("div", { class: "stat" }, h("div", { class: "stat-value", text: String(v) }), h("div", { class: "stat-label", text: pretty(k) })));
    const hourly = hours(data.by_hour);
    const perCamera = data.by_camera.map((row) => ({ ...row, label: cameraName(row) }));
    const sightings = perCamera.map((r) => ({ label: r.label, value: r.sightings }));
    const distinct = perCamera.map((r) => ({ label: r.label, value: r.distinct_people }));
    const dwell = perCamera.map((r) => ({ label: r.label, value: r.avg_dwell_s }));
    const kinds = matchKinds(data.by_match_kind);
    const any = (rows) => rows.some((r) => r.value > 0);
    replace(body,
      h("div", { class: "stats" }, tiles),
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
