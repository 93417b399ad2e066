// Events: filter, page through and play recordings; delete one, a selection, or all; review
// them (zones, alert or detection, reviewed or not), with the keyboard too.

import { isAdmin } from "../access.js";
import { confirmDialog } from "../components/dialog.js";
import { addActions, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { duration, isoToLocalInput, localInputToIso, when } from "../components/format.js";
import { counted, listPage } from "../components/list-page.js";
import { mediaImg } from "../components/media.js";
import { playEvent } from "../components/player.js";
import { cameraNamer } from "../components/status.js";
import { recordingsHref } from "../components/timeline-events.js";
import { toast, toastError } from "../components/toast.js";
import { api } from "../endpoints.js";

const NOUN = { one: "event", many: "events" };
const FILTERS = ["camera_id", "label", "person_id", "zone", "severity", "reviewed", "from", "to"];
const IN_PROGRESS_POLL_MS = 5000;
const REVIEW_BATCH = 500; // one page of the list; the review route takes up to 1000 ids
const NEXT_KEYS = new Set(["j", "ArrowDown", "ArrowRight"]);
const PREVIOUS_KEYS = new Set(["k", "ArrowUp", "ArrowLeft"]);

const select = (name, value, options) => h("select", { class: "input", name, value },
  options.map(([v, text]) => h("option", { value: v }, text)));

export async function mount(root, ctx) {
  const { query, signal, rerender } = ctx;
  const filters = Object.fromEntries(FILTERS.map((key) => [key, query.get(key) || ""]));
  const results = h("div", { class: "results" }, spinner("Loading events…"));
  const header = pageHeader("Events", "Recordings, newest first.");
  replace(root, header, results);

  const loaded = await loadOrExplain(results, () => Promise.all([
    api.cameras.list({ signal }), api.cameras.detectClasses({ signal }), api.people.list({ signal })]), { retry: rerender });
  if (!loaded) return;
  const [cameras, detect, people] = loaded;
  const labels = ["manual", "motion", ...detect.classes];
  const zoneNames = [...new Set(cameras.flatMap((c) => (c.zones || []).map((z) => z.name)))].sort();
  const cameraName = cameraNamer(cameras);

  // ---- filter bar
  const cameraSelect = h("select", { class: "input", name: "camera_id", value: filters.camera_id },
    h("option", { value: "" }, "All cameras"), cameras.map((c) => h("option", { value: String(c.id) }, c.name)));
  const labelInput = h("input", { class: "input", type: "search", name: "label", list: "event-labels", value: filters.label, placeholder: "Any label", maxlength: 50 });
  const personSelect = h("select", { class: "input", name: "person_id", value: filters.person_id },
    h("option", { value: "" }, "Anyone"), people.map((p) => h("option", { value: String(p.id) }, p.name)));
  const fromInput = h("input", { class: "input", type: "datetime-local", name: "from", value: isoToLocalInput(filters.from) });
  const toInput = h("input", { class: "input", type: "datetime-local", name: "to", value: isoToLocalInput(filters.to) });
  const zoneInput = h("input", { class: "input", type: "search", name: "zone", list: "event-zones", value: filters.zone, placeholder: "Any zone", maxlength: 64 });
  const severitySelect = select("severity", filters.severity, [["", "Alerts and detections"], ["alert", "Alerts"], ["detection", "Detections"]]);
  const reviewedSelect = select("reviewed", filters.reviewed, [["", "Reviewed or not"], ["false", "Unreviewed"], ["true", "Reviewed"]]);
  const filterForm = h("form", { class: "filters", role: "search" },
    field("Camera", cameraSelect), field("Label", labelInput), field("Person", personSelect),
    field("Zone", zoneInput), field("Severity", severitySelect), field("Review", reviewedSelect),
    field("From", fromInput), field("To", toInput),
    h("datalist", { id: "event-labels" }, labels.map((l) => h("option", { value: l }))),
    h("datalist", { id: "event-zones" }, zoneNames.map((z) => h("option", { value: z }))),
    h("div", { class: "filters-actions" }, h("button", { class: "btn", type: "submit" }, "Apply"),
      h("button", { class: "btn btn-ghost", type: "reset" }, "Reset")));
  const applyFilters = () => {
    Object.assign(filters, {
      camera_id: cameraSelect.value, label: labelInput.value.trim(), person_id: personSelect.value,
      zone: zoneInput.value.trim(), severity: severitySelect.value, reviewed: reviewedSelect.value,
      from: localInputToIso(fromInput.value), to: localInputToIso(toInput.value),
    });
    current = -1; // the keyboard starts again from the top of the new list
    list.reset();
    refreshCounts();
  };
  filterForm.addEventListener("change", applyFilters);
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
  filterForm.addEventListener("reset", () => setTimeout(applyFilters, 0));

  const play = (event) => playEvent(event, { cameraName: cameraName(event.camera_id), onDeleted: () => list.load() });

  const shown = new Map(); // event id → the event its card shows (keyboard review)

  function card(event, { selectBox }) {
    shown.set(event.id, event);
    const playable = Boolean(event.clip_url);
    const thumb = event.thumb_url ? mediaImg(event.thumb_url, { alt: "" }) : h("div", { class: "no-thumb", text: event.in_progress ? "Recording…" : "No thumbnail" });
    const reviewed = event.reviewed === true;
    return h("article", { class: ["event-card", reviewed ? "reviewed" : "unreviewed"], tabindex: -1, dataset: { event: event.id, reviewed: String(reviewed) },
      "aria-label": `${event.label} on ${cameraName(event.camera_id)} at ${when(event.ts)}${reviewed ? ", reviewed" : ", not reviewed"}` },
      h("button", { class: "thumb", type: "button", onclick: () => playable && play(event), disabled: !playable, "aria-label": `Play ${event.label} on ${cameraName(event.camera_id)} at ${when(event.ts)}` },
        thumb,
        playable ? h("span", { class: "thumb-play", "aria-hidden": "true" }, "▶") : null,
        h("span", { class: "thumb-badge" }, event.in_progress ? "● live" : duration(event.duration))),
      h("div", { class: "card-body" },
        h("div", { class: "row" }, h("span", { class: "event-badges" }, h("span", { class: `label-badge kind-${event.kind}`, text: event.label }),
          event.severity ? h("span", { class: `severity-badge severity-${event.severity}`, text: event.severity === "alert" ? "Alert" : "Detection" }) : null),
          selectBox(`Select event ${event.id}`)),
        h("div", { class: "strong", text: cameraName(event.camera_id) }),
        h("div", { class: "row" }, h("span", { class: "muted small", text: when(event.ts) }),
          h("a", { class: "small", href: recordingsHref(event.camera_id, { event }), "aria-label": `Event ${event.id} on the timeline` }, "Timeline")),
        event.person_name ? h("div", { class: "small", text: `Person: ${event.person_name}` }) : null,
        (event.zones || []).length ? h("div", { class: "chips event-zones", "aria-label": "Zones entered" },
          event.zones.map((zone) => h("span", { class: "chip chip-static", text: zone }))) : null,
        h("div", { class: "row" }, h("span", { class: "review-state small", text: reviewed ? "✓ Reviewed" : "● Not reviewed" }),
          h("button", { class: "btn btn-small btn-ghost review-toggle admin-only", type: "button", "aria-label": `Mark event ${event.id} ${reviewed ? "unreviewed" : "reviewed"}`,
            onclick: () => review([event.id], !reviewed) },
            reviewed ? "Mark unreviewed" : "Mark reviewed"))));
  }

  // ---- review: counts, a selection, everything the filters match, the keyboard
  const countButton = h("button", { class: "btn btn-ghost unreviewed-total", type: "button", hidden: true,
    title: "Show only the events not reviewed yet", onclick: () => { reviewedSelect.value = "false"; applyFilters(); } });
  const markAllButton = h("button", { class: "btn admin-only", type: "button", onclick: () => markAllReviewed() }, "Mark all reviewed");

  async function refreshCounts() {
    try {
      const counts = await api.events.unreviewed({ signal });
      if (!counts) return; // the view went away while the body was read
      const n = filters.camera_id ? Number((counts.by_camera || {})[filters.camera_id]) || 0 : counts.total;
      countButton.textContent = `${n} unreviewed`;
      countButton.dataset.count = String(n);
      countButton.hidden = false;
    } catch (error) {
      if (error.name !== "AbortError") countButton.hidden = true; // the list says what is wrong
    }
  }

  /** Mark events reviewed or not; true when the list should reload. */
  async function review(ids, reviewed, { quiet = false } = {}) {
    try {
      const { updated } = await api.events.review(ids, reviewed);
      if (!quiet) toast(`Marked ${counted(updated, NOUN)} ${reviewed ? "reviewed" : "unreviewed"}.`, "success");
    } catch (error) {
      toastError(reviewed ? "Marking reviewed failed" : "Marking unreviewed failed", error);
      return false;
    }
    await Promise.all([list.load({ quiet: true }), refreshCounts()]);
    return true;
  }

  /** Every event the filters match, a page at a time (each page drops out of "unreviewed"). */
  async function markAllReviewed() {
    const sure = await confirmDialog({
      title: "Mark all reviewed?",
      message: "Every unreviewed event that matches the filters is marked reviewed, not only this page.",
      confirm: "Mark reviewed", danger: false,
    });
    if (!sure) return;
    markAllButton.disabled = true;
    let marked = 0;
    const seen = new Set();
    try {
      for (;;) {
        const { items } = await api.events.list({ ...filters, reviewed: "false", offset: 0, limit: REVIEW_BATCH }, { signal });
        const ids = items.map((e) => e.id).filter((id) => !seen.has(id));
        if (!ids.length) break; // none left (or the server kept answering the same page)
        ids.forEach((id) => seen.add(id));
        marked += (await api.events.review(ids, true)).updated;
      }
      toast(`Marked ${counted(marked, NOUN)} reviewed.`, "success");
    } catch (error) {
      toastError("Marking all reviewed failed", error);
    } finally {
      markAllButton.disabled = false;
      await Promise.all([list.load({ quiet: true }), refreshCounts()]);
    }
  }

  /** "Deleted 3 events." and, when some were still recording, that those stayed. */
  const deleted = (result) => `Deleted ${counted(result.deleted, NOUN)}.${result.kept ? ` ${counted(result.kept, NOUN)} still recording, kept.` : ""}`;

  const list = listPage(ctx, {
    noun: NOUN,
    loading: "Loading events…",
    before: filterForm,
    filters,
    fetchPage: api.events.list,
    card,
    empty: { title: "No events yet", body: "Recordings appear here when a camera sees something, or when you record from Live." },
    paging: { sizes: [24, 48, 96], prev: "‹ Newer", next: "Older ›" },
    selection: {
      selectAll: "Select page",
      actions: [
        { label: "Mark reviewed", run: (items) => review(items.map((e) => e.id), true) },
        { label: "Mark unreviewed", run: (items) => review(items.map((e) => e.id), false) },
      ],
    },
    remove: {
      confirm: (n) => ({ title: `Delete ${counted(n, NOUN)}?`, message: "Their clips and thumbnails are deleted too. This cannot be undone." }),
      run: (ids) => api.events.bulkDelete(ids),
      done: deleted,
    },
    clearAll: {
      confirm() {
        const scope = [filters.camera_id ? `from ${cameraName(Number(filters.camera_id))}` : "",
          filters.label ? `labelled “${filters.label}”` : ""].filter(Boolean).join(" ");
        return {
          title: scope ? `Delete all events ${scope}?` : "Delete ALL events?",
          message: `${scope ? "Every event matching the camera and label filters" : "Every recorded event of every camera"} is deleted with its clip and thumbnail. Identities and sightings stay. This cannot be undone.`,
        };
      },
      run: () => api.events.clearAll({
        ...(filters.camera_id ? { camera_id: Number(filters.camera_id) } : {}),
        ...(filters.label ? { label: filters.label } : {}),
      }),
      done: deleted,
    },
    // A recording still in progress gets its clip soon: look again until it has one.
    poll: { while: (items) => items.some((e) => e.in_progress), everyMs: IN_PROGRESS_POLL_MS },
  });
  addActions(header, countButton, markAllButton, list.clearButton);
  const keysHelp = h("p", { class: "muted small review-keys" }, "Keys: ", h("kbd", { text: "j" }), " / ", h("kbd", { text: "k" }),
    " next and previous event, ", h("span", { class: "admin-only" }, h("kbd", { text: "r" }), " reviewed or not, "), h("kbd", { text: "Enter" }), " play.");
  replace(results, list.el, keysHelp);

  // The current card: j/k anywhere (arrows on a card) move it, r flips its review, Enter plays.
  let current = -1;
  const cards = () => [...list.el.querySelectorAll(".event-card")];
  function focusCard(index, { focus = true } = {}) {
    const all = cards();
    if (!all.length) return null;
    current = Math.max(0, Math.min(all.length - 1, index));
    for (const node of all) node.classList.toggle("current", node === all[current]);
    if (focus) all[current].focus();
    return all[current];
  }
  // Focus inside a card (a tap or Tab onto its buttons) makes it current but stays where it
  // is: moving it to the card would scroll and swallow the tap's click.
  list.el.addEventListener("focusin", (event) => {
    const node = event.target.closest(".event-card");
    if (node) focusCard(cards().indexOf(node), { focus: false });
  });
  async function flipCurrent() {
    const node = cards()[current];
    const event = node && shown.get(Number(node.dataset.event));
    if (!event) return;
    if (!(await review([event.id], event.reviewed !== true, { quiet: true }))) return;
    // The card stays (or, under "Unreviewed", the next one takes its place): keep the place.
    const again = list.el.querySelector(`.event-card[data-event="${event.id}"]`);
    focusCard(again ? cards().indexOf(again) : current);
  }
  function onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || document.querySelector("dialog[open]")) return;
    const target = event.target;
    if (target.closest && target.closest("input, select, textarea, [contenteditable]")) return;
    const onCard = Boolean(target.closest && target.closest(".event-card"));
    const arrow = event.key.startsWith("Arrow");
    if (NEXT_KEYS.has(event.key) && (onCard || !arrow)) focusCard(current + 1);
    else if (PREVIOUS_KEYS.has(event.key) && (onCard || !arrow)) focusCard(current - 1);
    else if (event.key === "r" && current >= 0 && isAdmin()) flipCurrent(); // reviewing is a change
    else if (event.key === "Enter" && target.classList && target.classList.contains("event-card")) {
      const shownEvent = shown.get(Number(target.dataset.event));
      if (shownEvent && shownEvent.clip_url) play(shownEvent);
    } else return;
    event.preventDefault();
  }
  document.addEventListener("keydown", onKey);
  signal.addEventListener("abort", () => document.removeEventListener("keydown", onKey));

  await Promise.all([list.load(), refreshCounts()]);
  const focusId = Number(query.get("event"));
  if (focusId) {
    api.events.get(focusId, { signal }).then(play).catch((error) => toastError("That event cannot be opened", error));
  }
}
