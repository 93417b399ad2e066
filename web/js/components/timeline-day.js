// One camera's day as a zoomable track: recorded spans, gaps, events coloured by label, the
// playback cursor and the export selection. Time runs left to right, from the whole day down
// to a minute.
//
// Pointer: click or drag on the track plays from that moment (dragging scrubs); Shift+drag, or
// a drag along the "select" strip, selects a range; the wheel zooms around the pointer (Shift
// or a sideways wheel pans); two fingers pinch to zoom and move together to pan.
// Keyboard (the track is a slider): ←/→ move the cursor (Shift: ten times further), Home/End
// the first/last footage, +/− zoom, 0 the whole day, PageUp/PageDown pan, [ and ] set the
// selection's start and end at the cursor, Enter or Space play/pause.

import { h, svg } from "./dom.js";
import { labelColor } from "./label-colors.js";
import { dayOverview } from "./timeline-overview.js";
import {
  HOUR, MIN_SPAN, around, clamp, clock, fit, keyStep, pan, ticks, tickLabel, viewText, within, zoom,
} from "./timeline-scale.js";

const PAD_X = 8;
const AXIS_H = 20;
const REC_Y = 22;
const REC_H = 30;
const EVENT_Y = 56;
const EVENT_H = 14;
const SELECT_Y = 74;
const SELECT_H = 18;
const HEIGHT = SELECT_Y + SELECT_H + 2;
const DRAG_PX = 4;
const KEY_SEEK_MS = 300;
const ZOOM_STEP = 0.5;

/**
 * Options: `label` (names the slider), and callbacks: `onSeek(t)` play from t; `onScrub(t)` the
 * cursor is being dragged over t; `onSelect(range|null)` the selection changed ({start, end});
 * `onEvent(id)` an event's mark was clicked; `onToggle()` play/pause; `onView(view)`.
 * Returns {el, setDay(day), setData(data), setCursor(t, {follow}), setSelection(range),
 * zoomTo(view), view(), destroy()}.
 */
export function dayTimeline({ label = "Recording timeline", onSeek, onScrub = () => {}, onSelect,
  onEvent = () => {}, onToggle = () => {}, onView = () => {} }) {
  const state = {
    day: null, view: null, width: 800,
    data: { spans: [], gaps: [], events: [], hours: [], now: Date.now() },
    cursor: null, selection: null, hover: null,
  };
  const overview = dayOverview({ onPick: pickFromOverview });
  const track = svg("svg", {
    class: "tl-track", height: HEIGHT, tabindex: 0, role: "slider", "aria-label": label,
    "aria-orientation": "horizontal",
  });
  const viewLabel = h("span", { class: "tl-view-text muted", "aria-live": "polite" });
  const button = (text, title, action) => h("button", { class: "btn btn-small", type: "button", title, "aria-label": title, onclick: action }, text);
  const controls = h("div", { class: "toolbar tl-controls" },
    button("−", "Zoom out", () => zoomBy(1 / ZOOM_STEP)),
    button("+", "Zoom in", () => zoomBy(ZOOM_STEP)),
    button("Day", "Show the whole day", () => setView({ ...state.day })),
    button("‹", "Earlier", () => panBy(-0.5)),
    button("›", "Later", () => panBy(0.5)),
    viewLabel);
  const el = h("div", { class: "day-timeline" }, controls, overview.el, h("div", { class: "tl-track-wrap" }, track));
  const cursor = svg("g", { class: "tl-cursor", hidden: true },
    svg("line", { y1: 0, y2: SELECT_Y }), svg("rect", { class: "tl-cursor-tag", y: 1, height: 16, rx: 3 }),
    svg("text", { class: "tl-cursor-text", y: 13 }));
  const hover = svg("g", { class: "tl-hover", hidden: true },
    svg("line", { y1: AXIS_H, y2: SELECT_Y + SELECT_H }), svg("text", { class: "tl-hover-text", y: AXIS_H + 12 }));

  const inner = () => Math.max(1, state.width - 2 * PAD_X);
  const x = (t) => PAD_X + ((t - state.view.start) / (state.view.end - state.view.start)) * inner();
  const timeAtX = (px) => clamp(state.view.start + ((px - PAD_X) / inner()) * (state.view.end - state.view.start),
    state.day.start, state.day.end);
  const timeAt = (clientX) => timeAtX(clientX - track.getBoundingClientRect().left);

  function setView(view, { silent = false } = {}) {
    if (!state.day) return;
    state.view = fit(view, state.day);
    draw();
    if (!silent) onView({ ...state.view });
  }
  const zoomBy = (factor, anchor = null) => {
    const middle = (state.view.start + state.view.end) / 2;
    const at = anchor ?? (state.cursor !== null && state.cursor >= state.view.start && state.cursor <= state.view.end ? state.cursor : middle);
    setView(zoom(state.view, factor, at, state.day));
  };
  const panBy = (share) => setView(pan(state.view, share * (state.view.end - state.view.start), state.day));

  function pickFromOverview(t, { drag }) {
    if (t === null) return;
    const span = state.view.end - state.view.start;
    if (!drag && span > 6 * HOUR) {
      const hour = state.day.start + Math.floor((t - state.day.start) / HOUR) * HOUR;
      setView({ start: hour, end: hour + HOUR });
    } else {
      setView(around(t, span, state.day));
    }
  }

  // ---- drawing
  /** Labels at the ends of the track lean inwards instead of being cut off. */
  const anchorAt = (px) => (px < PAD_X + 36 ? "start" : px > state.width - PAD_X - 36 ? "end" : "middle");

  function draw() {
    if (!state.day || !state.view) return;
    const { view, data } = state;
    overview.draw({ day: state.day, hours: data.hours, view, width: state.width });
    viewLabel.textContent = viewText(view);
    track.replaceChildren();
    track.setAttribute("viewBox", `0 0 ${state.width} ${HEIGHT}`);
    track.setAttribute("width", String(state.width));
    track.dataset.viewStart = String(Math.round(view.start));
    track.dataset.viewEnd = String(Math.round(view.end));
    track.dataset.pad = String(PAD_X);
    const { step, times } = ticks(view, state.width, state.day.start);
    for (const t of times) {
      track.append(svg("line", { class: "grid", x1: x(t), x2: x(t), y1: AXIS_H - 4, y2: SELECT_Y }),
        svg("text", { class: "axis", x: x(t), y: 13, "text-anchor": anchorAt(x(t)) }, tickLabel(t, step)));
    }
    track.append(svg("rect", { class: "tl-lane", x: PAD_X, y: REC_Y, width: inner(), height: REC_H, rx: 3 }));
    const future = Math.max(view.start, data.now);
    if (future < view.end) {
      track.append(svg("rect", { class: "tl-future", x: x(future), y: REC_Y, width: x(view.end) - x(future), height: REC_H },
        svg("title", {}, "Not yet recorded")));
    }
    for (const span of within(data.spans, view.start, view.end)) {
      track.append(svg("rect", { class: "tl-span", x: x(span.start), y: REC_Y, width: Math.max(2, x(span.end) - x(span.start)), height: REC_H },
        svg("title", {}, `Recorded ${clock(span.start)}–${clock(span.end)}`)));
    }
    for (const gap of within(data.gaps, view.start, view.end)) {
      track.append(svg("rect", { class: "tl-gap", x: x(gap.start), y: REC_Y, width: Math.max(2, x(gap.end) - x(gap.start)), height: REC_H },
        svg("title", {}, `Not recorded ${clock(gap.start)}–${clock(gap.end)} (camera offline or writer failed)`)));
    }
    for (const event of within(data.events, view.start, view.end)) {
      track.append(svg("rect", {
        class: ["tl-event", event.current ? "current" : ""].join(" "), x: x(event.start), y: EVENT_Y,
        width: Math.max(3, x(event.end) - x(event.start)), height: EVENT_H, rx: 2, fill: labelColor(event.label),
        "data-event": event.id,
      }, svg("title", {}, `${event.label} at ${clock(event.start)}`)));
    }
    track.append(svg("rect", { class: "tl-select-lane", x: PAD_X, y: SELECT_Y, width: inner(), height: SELECT_H, rx: 3 }),
      svg("text", { class: "tl-select-hint", x: PAD_X + 6, y: SELECT_Y + 13 }, "Drag here (or Shift+drag above) to select a range"));
    if (state.selection) {
      const { start, end } = state.selection;
      const left = clamp(x(start), PAD_X, PAD_X + inner());
      const right = clamp(x(end), PAD_X, PAD_X + inner());
      if (right > PAD_X && left < PAD_X + inner()) {
        track.append(svg("rect", { class: "tl-selection", x: left, y: REC_Y, width: Math.max(2, right - left), height: SELECT_Y + SELECT_H - REC_Y }));
      }
    }
    track.append(hover, cursor);
    moveCursor();
  }

  function moveCursor() {
    const t = state.cursor;
    track.setAttribute("aria-valuemin", String(Math.round(state.day.start)));
    track.setAttribute("aria-valuemax", String(Math.round(state.day.end)));
    if (t === null) {
      cursor.setAttribute("hidden", "");
      track.removeAttribute("aria-valuenow");
      track.setAttribute("aria-valuetext", "No moment chosen");
      return;
    }
    const recorded = state.data.spans.some((s) => t >= s.start && t < s.end);
    track.setAttribute("aria-valuenow", String(Math.round(t)));
    track.setAttribute("aria-valuetext", `${clock(t)}${recorded ? "" : ", not recorded"}`);
    track.dataset.cursor = String(Math.round(t));
    if (t < state.view.start || t > state.view.end) {
      cursor.setAttribute("hidden", "");
      return;
    }
    cursor.removeAttribute("hidden");
    const px = x(t);
    const text = clock(t);
    const tagW = 8 + text.length * 7;
    const tagX = clamp(px - tagW / 2, 0, state.width - tagW);
    cursor.querySelector("line").setAttribute("x1", String(px));
    cursor.querySelector("line").setAttribute("x2", String(px));
    const tag = cursor.querySelector("rect");
    tag.setAttribute("x", String(tagX));
    tag.setAttribute("width", String(tagW));
    const label = cursor.querySelector("text");
    label.setAttribute("x", String(tagX + tagW / 2));
    label.textContent = text;
  }

  // ---- pointer: seek, scrub, select, pinch
  const pointers = new Map();
  let gesture = null;

  track.addEventListener("pointerdown", (event) => {
    if (!state.view || (event.pointerType === "mouse" && event.button !== 0)) return;
    track.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, event.clientX);
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      gesture = { mode: "pinch", distance: Math.max(20, Math.abs(a - b)), view: { ...state.view }, anchor: timeAt((a + b) / 2) };
      return;
    }
    const box = track.getBoundingClientRect();
    const inSelectLane = event.clientY - box.top >= (SELECT_Y / HEIGHT) * box.height;
    const mark = event.target.closest && event.target.closest("[data-event]");
    gesture = {
      mode: event.shiftKey || inSelectLane ? "select" : "seek", x: event.clientX, moved: false,
      from: timeAt(event.clientX), event: mark ? Number(mark.dataset.event) : null,
    };
  });

  track.addEventListener("pointermove", (event) => {
    if (!state.view) return;
    if (!gesture) {
      showHover(event.clientX);
      return;
    }
    if (pointers.has(event.pointerId)) pointers.set(event.pointerId, event.clientX);
    if (gesture.mode === "pinch") {
      if (pointers.size < 2) return;
      const [a, b] = [...pointers.values()];
      const span = (gesture.view.end - gesture.view.start) * (gesture.distance / Math.max(20, Math.abs(a - b)));
      const share = ((a + b) / 2 - track.getBoundingClientRect().left - PAD_X) / inner();
      const next = clamp(span, MIN_SPAN, state.day.end - state.day.start);
      setView({ start: gesture.anchor - share * next, end: gesture.anchor - share * next + next });
      return;
    }
    if (Math.abs(event.clientX - gesture.x) > DRAG_PX) gesture.moved = true;
    if (!gesture.moved) return;
    const t = timeAt(event.clientX);
    if (gesture.mode === "select") {
      setSelection({ start: Math.min(gesture.from, t), end: Math.max(gesture.from, t) }, { notify: true });
    } else {
      state.cursor = t;
      moveCursor();
      onScrub(t);
    }
  });

  const endGesture = (event, cancelled) => {
    pointers.delete(event.pointerId);
    if (!gesture) return;
    const done = gesture;
    if (done.mode === "pinch") {
      if (pointers.size === 0) gesture = null;
      return;
    }
    gesture = null;
    if (cancelled) return;
    if (done.mode === "select") return;
    if (!done.moved && done.event !== null) {
      onEvent(done.event);
      return;
    }
    const t = timeAt(event.clientX);
    state.cursor = t;
    moveCursor();
    onSeek(t);
  };
  track.addEventListener("pointerup", (event) => endGesture(event, false));
  track.addEventListener("pointercancel", (event) => endGesture(event, true));
  track.addEventListener("pointerleave", () => hover.setAttribute("hidden", ""));

  function showHover(clientX) {
    const px = clientX - track.getBoundingClientRect().left;
    if (px < PAD_X || px > PAD_X + inner()) {
      hover.setAttribute("hidden", "");
      return;
    }
    hover.removeAttribute("hidden");
    const line = hover.querySelector("line");
    line.setAttribute("x1", String(px));
    line.setAttribute("x2", String(px));
    const text = hover.querySelector("text");
    const right = px > state.width - 80;
    text.setAttribute("x", String(right ? px - 4 : px + 4));
    text.setAttribute("text-anchor", right ? "end" : "start");
    text.textContent = clock(timeAtX(px));
  }

  track.addEventListener("wheel", (event) => {
    if (!state.view) return;
    event.preventDefault();
    const sideways = Math.abs(event.deltaX) > Math.abs(event.deltaY);
    if (sideways || event.shiftKey) {
      const delta = sideways ? event.deltaX : event.deltaY;
      const perPx = (state.view.end - state.view.start) / inner();
      setView(pan(state.view, delta * perPx, state.day));
    } else {
      setView(zoom(state.view, Math.exp(event.deltaY * 0.002), timeAt(event.clientX), state.day));
    }
  }, { passive: false });

  // ---- keyboard
  let keySeek = 0;
  track.addEventListener("keydown", (event) => {
    if (!state.view) return;
    const step = keyStep(state.view) * (event.shiftKey ? 10 : 1);
    const from = state.cursor ?? (state.view.start + state.view.end) / 2;
    const first = state.data.spans.length ? state.data.spans[0].start : state.day.start;
    const lastEnd = state.data.spans.length ? state.data.spans[state.data.spans.length - 1].end : state.day.end;
    const moves = {
      ArrowLeft: () => from - step, ArrowRight: () => from + step, Home: () => first, End: () => Math.max(first, lastEnd - 1000),
    };
    const actions = {
      "+": () => zoomBy(ZOOM_STEP), "=": () => zoomBy(ZOOM_STEP), "-": () => zoomBy(1 / ZOOM_STEP),
      0: () => setView({ ...state.day }), PageUp: () => panBy(-1), PageDown: () => panBy(1),
      "[": () => mark("start", from), "]": () => mark("end", from), Enter: onToggle, " ": onToggle,
    };
    if (moves[event.key]) {
      event.preventDefault();
      const t = clamp(moves[event.key](), state.day.start, state.day.end);
      state.cursor = t;
      if (t < state.view.start || t > state.view.end) setView(around(t, state.view.end - state.view.start, state.day));
      moveCursor();
      clearTimeout(keySeek);
      keySeek = setTimeout(() => { keySeek = 0; onSeek(t); }, KEY_SEEK_MS);
    } else if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  });

  function mark(edge, t) {
    const current = state.selection || { start: t, end: t };
    const next = edge === "start" ? { start: t, end: Math.max(t, current.end) } : { start: Math.min(t, current.start), end: t };
    setSelection(next, { notify: true });
  }

  function setSelection(range, { notify = false } = {}) {
    state.selection = range ? { start: range.start, end: range.end } : null;
    draw();
    if (notify) onSelect(state.selection);
  }

  // ---- size
  const resize = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0].contentRect.width);
    if (width > 0 && width !== state.width) {
      state.width = width;
      draw();
    }
  });
  resize.observe(el);

  return {
    el,
    /** Show `day` {start, end} whole. */
    setDay(day) {
      state.day = { start: day.start, end: day.end };
      state.view = { ...state.day };
      state.width = Math.floor(el.getBoundingClientRect().width) || state.width;
      draw();
    },
    /** `data`: {spans, gaps, events: [{id, label, start, end, current}], hours, now}. */
    setData(data) {
      state.data = { ...state.data, ...data };
      draw();
    },
    /** Move the playback cursor; `follow` pans a zoomed view to keep it in sight. */
    setCursor(t, { follow = false } = {}) {
      if (gesture || keySeek) return; // the user is moving it: playback catches up after
      state.cursor = t;
      if (follow && t !== null && !gesture && state.view && (t < state.view.start || t > state.view.end)) {
        const span = state.view.end - state.view.start;
        setView({ start: t - span * 0.1, end: t + span * 0.9 });
        return;
      }
      if (state.view) moveCursor();
    },
    setSelection: (range) => setSelection(range),
    zoomTo: (view) => setView(view),
    view: () => ({ ...state.view }),
    destroy() {
      clearTimeout(keySeek);
      resize.disconnect();
    },
  };
}
