// Recordings (#/recordings/<camera>?day=&t=&from=&to=): one camera's day as a timeline of
// recorded spans, gaps and events; play from any moment, follow playback on the timeline and
// in the events list, export a range as MP4. `t` plays a moment, `from`/`to` select a range.

import { backLink, emptyState, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { icon } from "../components/icons.js";
import { labelColor } from "../components/label-colors.js";
import { dayTimeline } from "../components/timeline-day.js";
import { eventAt, eventSpan, eventsList } from "../components/timeline-events.js";
import { exportPanel } from "../components/timeline-export.js";
import { around, clock, localDay, MINUTE, shiftDay } from "../components/timeline-scale.js";
import { vodPlayer } from "../components/vod-player.js";
import { api } from "../endpoints.js";

const REFRESH_MS = 10_000;
const EVENTS_LIMIT = 500;
const ZOOM_ON_PLAY = 30 * MINUTE;
const iso = (ms) => new Date(ms).toISOString();
const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const toMs = (span) => ({ start: new Date(span.start).getTime(), end: new Date(span.end).getTime() });

function moment(value) {
  const ms = value ? new Date(value).getTime() : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** "14:05:30" of `ms` for an <input type=time step=1>. */
function timeValue(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** An <input type=time> value on `day` as epoch ms (null when empty). */
function timeOnDay(value, day) {
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
  if (!match) return null;
  const base = new Date(day.start);
  return new Date(base.getFullYear(), base.getMonth(), base.getDate(), Number(match[1]), Number(match[2]), Number(match[3] || 0)).getTime();
}

async function pickCamera(root, { signal, rerender }) {
  replace(root, spinner("Loading cameras…"));
  const cameras = await loadOrExplain(root, () => api.cameras.list({ signal }), { retry: rerender });
  if (!cameras) return;
  if (!cameras.length) {
    replace(root, pageHeader("Recordings"), emptyState("No cameras yet", "Add a camera; it records continuously from then on.",
      h("a", { class: "btn btn-primary", href: "#/cameras/new" }, "Add a camera")));
    return;
  }
  location.replace(`#/recordings/${cameras[0].id}`);
}

export async function mount(root, ctx) {
  const { arg, query, signal, rerender } = ctx;
  if (!arg) return pickCamera(root, ctx);
  const cameraId = Number(arg);
  replace(root, spinner("Loading recordings…"));
  const loaded = await loadOrExplain(root, () => Promise.all([api.cameras.get(cameraId, { signal }), api.cameras.list({ signal })]), {
    retry: rerender, notFound: () => emptyState("Camera not found", "It may have been deleted.", backLink("#/recordings", "Recordings")),
  });
  if (!loaded) return undefined;
  const [camera, cameras] = loaded;

  const state = {
    play: moment(query.get("t")),
    selection: null,
    events: [],
    spans: [],
    current: null,
    cursor: null,
  };
  const day = localDay(query.get("day") || state.play || Date.now()) || localDay(Date.now());
  const from = moment(query.get("from"));
  const to = moment(query.get("to"));
  if (from !== null && to !== null && to > from) state.selection = { start: from, end: to };

  const keepUrl = () => ctx.setQuery({
    day: day.day,
    t: state.cursor !== null ? iso(state.cursor) : null,
    from: state.selection ? iso(state.selection.start) : null,
    to: state.selection ? iso(state.selection.end) : null,
  });

  // ---- header: camera, day
  const cameraSelect = h("select", { class: "input rec-camera", "aria-label": "Camera", value: String(cameraId) },
    cameras.map((c) => h("option", { value: String(c.id) }, c.name)));
  cameraSelect.addEventListener("change", () => { location.hash = `#/recordings/${cameraSelect.value}?day=${day.day}`; });
  const goDay = (next) => {
    if (!next) return;
    ctx.setQuery({ day: next.day });
    rerender();
  };
  const dayInput = h("input", { class: "input", type: "date", "aria-label": "Day", value: day.day, max: localDay(Date.now()).day });
  dayInput.addEventListener("change", () => goDay(localDay(dayInput.value)));
  const header = pageHeader(`Recordings · ${camera.name}`, "Click or drag on the timeline to play from any moment; select a range to export it.",
    cameraSelect,
    h("div", { class: "toolbar rec-day" },
      h("button", { class: "btn", type: "button", "aria-label": "Previous day", onclick: () => goDay(shiftDay(day.day, -1)) }, "‹"),
      dayInput,
      h("button", { class: "btn", type: "button", "aria-label": "Next day", disabled: day.end > Date.now(), onclick: () => goDay(shiftDay(day.day, 1)) }, "›")),
    h("a", { class: "btn btn-ghost", href: `#/live/${cameraId}` }, icon("back"), "Live"));

  // ---- player
  const clockText = h("span", { class: "rec-clock", "aria-live": "off" }, "—");
  const status = h("span", { class: "rec-status muted", role: "status" });
  const player = vodPlayer(cameraId, {
    onTime(t) {
      state.cursor = t;
      clockText.textContent = clock(t);
      clockText.dataset.time = String(Math.round(t));
      timeline.setCursor(t, { follow: true });
      markCurrent(eventAt(state.spans, t));
    },
    onStatus(text, kind = "info") {
      status.textContent = text;
      status.classList.toggle("rec-status-error", kind === "error");
    },
  });
  const hint = h("div", { class: "stage-hint", text: "Pick a moment on the timeline to play it." });
  const stage = h("div", { class: "stage rec-stage" }, player.el, hint);

  function playFrom(t) {
    hint.hidden = true;
    state.cursor = t;
    timeline.setCursor(t);
    clockText.textContent = clock(t);
    keepUrl();
    return player.playFrom(t);
  }

  let scrubbing = 0;
  const timeline = dayTimeline({
    label: `Recordings of ${camera.name}`,
    onSeek: playFrom,
    onScrub(t) {
      cancelAnimationFrame(scrubbing);
      scrubbing = requestAnimationFrame(() => player.scrubTo(t));
      clockText.textContent = clock(t);
    },
    onSelect(range) {
      state.selection = range;
      showSelection();
    },
    onEvent(id) {
      const event = state.events.find((e) => e.id === id);
      if (event) pickEvent(event);
    },
    onToggle: () => player.toggle(),
  });
  timeline.setDay(day);

  // ---- events and the current one
  const events = eventsList({ onPick: pickEvent });
  function pickEvent(event) {
    const span = eventSpan(event);
    const view = timeline.view();
    if (span.start < view.start || span.start > view.end) timeline.zoomTo(around(span.start, Math.min(view.end - view.start, ZOOM_ON_PLAY), day));
    playFrom(Math.max(day.start, span.start));
  }
  function markCurrent(id) {
    if (id === state.current) return;
    state.current = id;
    events.setCurrent(id);
    drawData();
  }
  const legend = h("ul", { class: "legend legend-inline rec-legend" });

  // ---- selection and export
  const fromInput = h("input", { class: "input", type: "time", step: 1, "aria-label": "Export from" });
  const toInput = h("input", { class: "input", type: "time", step: 1, "aria-label": "Export to" });
  const exporter = exportPanel(cameraId, { cameraName: camera.name, getRange: () => state.selection });
  function showSelection() {
    fromInput.value = state.selection ? timeValue(state.selection.start) : "";
    toInput.value = state.selection ? timeValue(state.selection.end) : "";
    timeline.setSelection(state.selection);
    exporter.update(state.selection);
    keepUrl();
  }
  const fromInputs = () => {
    const start = timeOnDay(fromInput.value, day);
    const end = timeOnDay(toInput.value, day);
    state.selection = start !== null && end !== null && end > start ? { start, end } : null;
    timeline.setSelection(state.selection);
    exporter.update(state.selection);
    keepUrl();
  };
  fromInput.addEventListener("change", fromInputs);
  toInput.addEventListener("change", fromInputs);
  const atCursor = (edge) => {
    const t = state.cursor;
    if (t === null) return;
    const current = state.selection || { start: t, end: t + MINUTE };
    state.selection = edge === "start" ? { start: t, end: Math.max(current.end, t + 1000) } : { start: Math.min(current.start, t - 1000), end: t };
    showSelection();
  };
  const exportCard = h("section", { class: "card rec-export", "aria-label": "Export" },
    h("h2", { text: "Export a range" }),
    h("div", { class: "rec-range" }, field("From", fromInput), field("To", toInput),
      h("div", { class: "toolbar" },
        h("button", { class: "btn", type: "button", onclick: () => atCursor("start") }, "Start at cursor"),
        h("button", { class: "btn", type: "button", onclick: () => atCursor("end") }, "End at cursor"),
        h("button", { class: "btn btn-ghost", type: "button", onclick: () => { state.selection = null; showSelection(); } }, "Clear"))),
    exporter.el);

  replace(root, header,
    h("div", { class: "rec-layout" },
      h("div", { class: "rec-main" }, stage,
        h("div", { class: "rec-playbar" }, clockText, status),
        timeline.el, legend, exportCard),
      events.el));
  showSelection();

  // ---- the day's data
  function drawData() {
    const marks = state.spans.map((s) => ({ ...s, current: s.id === state.current }));
    timeline.setData({ events: marks });
  }
  async function loadDay() {
    const range = { camera_id: cameraId, from: iso(day.start), to: iso(day.end) };
    const [summary, coverage, list] = await Promise.all([
      api.recordings.summary({ camera_id: cameraId, day: day.day, tz: zone() }, { signal }),
      api.recordings.coverage(range, { signal }),
      api.events.list({ ...range, limit: EVENTS_LIMIT }, { signal }),
    ]);
    const now = Date.now();
    state.events = list.items;
    state.spans = list.items.map((e) => eventSpan(e, now));
    timeline.setData({ spans: coverage.spans.map(toMs), gaps: coverage.gaps.map(toMs), hours: summary.hours, now });
    drawData();
    events.show(state.events, state.spans);
    const labels = [...new Set(state.events.map((e) => e.label))].sort();
    replace(legend, labels.map((label) => h("li", {}, h("span", { class: "swatch", style: { background: labelColor(label) } }), label)),
      coverage.gaps.length ? h("li", {}, h("span", { class: "swatch swatch-gap" }), "not recorded") : null);
    root.dataset.recorded = String(coverage.recorded_seconds);
    return coverage;
  }

  const first = await loadOrExplain(root, loadDay, { retry: rerender });
  if (!first) return undefined;
  if (state.play !== null) {
    timeline.zoomTo(around(state.play, ZOOM_ON_PLAY, day));
    playFrom(state.play);
  }
  const refresh = day.end > Date.now() ? setInterval(() => loadDay().catch(() => {}), REFRESH_MS) : 0;
  return () => {
    clearInterval(refresh);
    cancelAnimationFrame(scrubbing);
    exporter.cancel();
    timeline.destroy();
    player.stop();
  };
}
