// The events beside a day timeline: one button per event (colour of its label, time, length),
// the one being played marked current. Clicking one plays its footage.

import { h, replace } from "./dom.js";
import { duration } from "./format.js";
import { labelColor } from "./label-colors.js";
import { clock } from "./timeline-scale.js";

/** The link to a camera's recordings, playing `event`'s footage (or moment `t`) when given. */
export function recordingsHref(cameraId, { event = null, t = null } = {}) {
  const at = event ? event.clip_start || event.ts : t;
  return `#/recordings/${encodeURIComponent(cameraId)}${at ? `?t=${encodeURIComponent(new Date(at).toISOString())}` : ""}`;
}

/** An event's footage on the timeline: {id, label, start, end} in ms (the clip's range). */
export function eventSpan(event, now = Date.now()) {
  const seen = new Date(event.ts).getTime();
  const start = event.clip_start ? new Date(event.clip_start).getTime() : seen;
  let end = event.clip_end ? new Date(event.clip_end).getTime() : event.end_ts ? new Date(event.end_ts).getTime() : null;
  if (end === null) end = event.in_progress ? now : seen + 1000 * (Number(event.duration) || 1);
  return { id: event.id, label: event.label, start, end: Math.max(end, start + 1000), seen };
}

/** The id of the event whose footage holds `t`, the latest to start when several do. */
export function eventAt(spans, t) {
  let found = null;
  for (const span of spans) if (t >= span.start && t < span.end && (!found || span.start >= found.start)) found = span;
  return found ? found.id : null;
}

/**
 * @param onPick (event) → void
 * Returns {el, show(events, spans), setCurrent(id)}.
 */
export function eventsList({ onPick }) {
  const count = h("span", { class: "muted" });
  const list = h("ol", { class: "rec-events-list" });
  const el = h("section", { class: "card rec-events", "aria-label": "Events of the day" },
    h("h2", {}, "Events ", count), list);
  let items = new Map();
  let current = null;

  function show(events, spans) {
    const byId = new Map(spans.map((s) => [s.id, s]));
    items = new Map();
    count.textContent = `(${events.length})`;
    if (!events.length) {
      replace(list, h("li", { class: "muted", text: "No events this day." }));
      return;
    }
    // Oldest first, like the timeline reads.
    const ordered = [...events].sort((a, b) => byId.get(a.id).start - byId.get(b.id).start);
    replace(list, ordered.map((event) => {
      const span = byId.get(event.id);
      const button = h("button", {
        class: ["rec-event", event.id === current ? "current" : ""], type: "button", dataset: { event: event.id },
        "aria-current": event.id === current ? "true" : null, onclick: () => onPick(event),
      },
      h("span", { class: "swatch", style: { background: labelColor(event.label) }, "aria-hidden": "true" }),
      h("span", { class: "rec-event-label", text: event.label }),
      h("span", { class: "rec-event-time", text: clock(span.seen) }),
      h("span", { class: "muted small", text: event.in_progress ? "recording" : duration(event.duration) }),
      event.person_name ? h("span", { class: "small", text: event.person_name }) : null);
      items.set(event.id, button);
      return h("li", {}, button);
    }));
  }

  function setCurrent(id) {
    if (id === current) return;
    const before = items.get(current);
    if (before) {
      before.classList.remove("current");
      before.removeAttribute("aria-current");
    }
    current = id;
    const now = items.get(id);
    if (now) {
      now.classList.add("current");
      now.setAttribute("aria-current", "true");
      // Scroll the list only, never the page: the player may be what the user looks at.
      const top = now.offsetTop; // the list is positioned: offsets are within it
      if (top < list.scrollTop || top + now.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = Math.max(0, top - list.clientHeight / 3);
      }
    }
  }

  return { el, show, setCurrent };
}
