// Time arithmetic of the day timeline (no DOM): which part of the day is in view, how it
// zooms and pans, where its ticks fall and how they read. Times are epoch milliseconds.

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** The narrowest view: a minute, so seconds can be picked with a mouse or a finger. */
export const MIN_SPAN = MINUTE;

const TICK_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600]
  .map((s) => s * SECOND);
const MIN_TICK_PX = 84;

const clockMinutes = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const clockSeconds = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** The local day containing `ms` (or "YYYY-MM-DD"): {day, start, end} (23 or 25 h on DST days). */
export function localDay(value) {
  const date = typeof value === "string" ? parseDay(value) : new Date(value);
  if (!date || Number.isNaN(date.getTime())) return null;
  const start = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const end = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1);
  const pad = (n) => String(n).padStart(2, "0");
  return {
    day: `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}`,
    start: start.getTime(),
    end: end.getTime(),
  };
}

function parseDay(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : null;
}

/** The day before (-1) or after (+1) `day` ("YYYY-MM-DD"). */
export function shiftDay(day, by) {
  const date = parseDay(day);
  return localDay(new Date(date.getFullYear(), date.getMonth(), date.getDate() + by).getTime());
}

export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** A view {start, end} moved inside `bounds` whole (its span kept when it fits). */
export function fit(view, bounds, minSpan = MIN_SPAN) {
  const span = clamp(view.end - view.start, Math.min(minSpan, bounds.end - bounds.start), bounds.end - bounds.start);
  const start = clamp(view.start, bounds.start, bounds.end - span);
  return { start, end: start + span };
}

/** Zoom by `factor` (< 1 narrows) keeping time `anchor` where it is on screen. */
export function zoom(view, factor, anchor, bounds) {
  const span = view.end - view.start;
  const next = clamp(span * factor, MIN_SPAN, bounds.end - bounds.start);
  const share = span > 0 ? (anchor - view.start) / span : 0.5;
  return fit({ start: anchor - share * next, end: anchor - share * next + next }, bounds);
}

/** Move the view by `delta` ms. */
export function pan(view, delta, bounds) {
  return fit({ start: view.start + delta, end: view.end + delta }, bounds);
}

/** A view of `span` centred on `t`. */
export function around(t, span, bounds) {
  return fit({ start: t - span / 2, end: t + span / 2 }, bounds);
}

/** Tick step for a view drawn `width` px wide: the finest that leaves room for a label. */
export function tickStep(view, width) {
  const span = view.end - view.start;
  const most = Math.max(1, Math.floor(width / MIN_TICK_PX));
  return TICK_STEPS.find((step) => span / step <= most) || TICK_STEPS[TICK_STEPS.length - 1];
}

/** Tick times inside the view, counted from the day's start (so hours fall on local hours). */
export function ticks(view, width, dayStart) {
  const step = tickStep(view, width);
  const first = dayStart + Math.ceil((view.start - dayStart) / step) * step;
  const out = [];
  for (let t = first; t <= view.end; t += step) out.push(t);
  return { step, times: out };
}

/** "14:05" or, below a minute's step, "14:05:30". */
export function tickLabel(t, step) {
  return (step < MINUTE ? clockSeconds : clockMinutes).format(new Date(t));
}

/** "14:05:30" */
export function clock(t) {
  return clockSeconds.format(new Date(t));
}

/** A step for moving the cursor with the keyboard: about a hundredth of the view. */
export function keyStep(view) {
  const wanted = (view.end - view.start) / 100;
  return [SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 10 * MINUTE]
    .find((step) => step >= wanted) || 10 * MINUTE;
}

/** "14:00–14:30" (the part of the day in view). */
export function viewText(view) {
  const step = view.end - view.start < 10 * MINUTE ? SECOND : MINUTE;
  return `${tickLabel(view.start, step)}–${tickLabel(view.end, step)}`;
}

/** The spans [start, end) of `spans` that overlap [from, to), clipped to it. */
export function within(spans, from, to) {
  return spans.filter((s) => s.end > from && s.start < to)
    .map((s) => ({ ...s, start: Math.max(s.start, from), end: Math.min(s.end, to) }));
}
