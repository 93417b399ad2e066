// Events: filter, page through and play recordings; delete one, a selection, or all.

import { addActions, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { duration, isoToLocalInput, localInputToIso, when } from "../components/format.js";
import { counted, listPage } from "../components/list-page.js";
import { mediaImg } from "../components/media.js";
import { playEvent } from "../components/player.js";
import { cameraNamer } from "../components/status.js";
import { recordingsHref } from "../components/timeline-events.js";
import { toastError } from "../components/toast.js";
import { api } from "../endpoints.js";

const NOUN = { one: "event", many: "events" };
const FILTERS = ["camera_id", "label", "person_id", "from", "to"];
const IN_PROGRESS_POLL_MS = 5000;

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
  const cameraName = cameraNamer(cameras);

  // ---- filter bar
  const cameraSelect = h("select", { class: "input", name: "camera_id", value: filters.camera_id },
    h("option", { value: "" }, "All cameras"), cameras.map((c) => h("option", { value: String(c.id) }, c.name)));
  const labelInput = h("input", { class: "input", type: "search", name: "label", list: "event-labels", value: filters.label, placeholder: "Any label", maxlength: 50 });
  const personSelect = h("select", { class: "input", name: "person_id", value: filters.person_id },
    h("option", { value: "" }, "Anyone"), people.map((p) => h("option", { value: String(p.id) }, p.name)));
  const fromInput = h("input", { class: "input", type: "datetime-local", name: "from", value: isoToLocalInput(filters.from) });
  const toInput = h("input", { class: "input", type: "datetime-local", name: "to", value: isoToLocalInput(filters.to) });
  const filterForm = h("form", { class: "filters", role: "search" },
    field("Camera", cameraSelect), field("Label", labelInput), field("Person", personSelect),
    field("From", fromInput), field("To", toInput),
    h("datalist", { id: "event-labels" }, labels.map((l) => h("option", { value: l }))),
    h("div", { class: "filters-actions" }, h("button", { class: "btn", type: "submit" }, "Apply"),
      h("button", { class: "btn btn-ghost", type: "reset" }, "Reset")));
  const applyFilters = () => {
    Object.assign(filters, {
      camera_id: cameraSelect.value, label: labelInput.value.trim(), person_id: personSelect.value,
      from: localInputToIso(fromInput.value), to: localInputToIso(toInput.value),
    });
    list.reset();
  };
  filterForm.addEventListener("change", applyFilters);
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
  filterForm.addEventListener("reset", () => setTimeout(applyFilters, 0));

  const play = (event) => playEvent(event, { cameraName: cameraName(event.camera_id), onDeleted: () => list.load() });

  function card(event, { selectBox }) {
    const playable = Boolean(event.clip_url);
    const thumb = event.thumb_url ? mediaImg(event.thumb_url, { alt: "" }) : h("div", { class: "no-thumb", text: event.in_progress ? "Recording…" : "No thumbnail" });
    return h("article", { class: "event-card", dataset: { event: event.id } },
      h("button", { class: "thumb", type: "button", onclick: () => playable && play(event), disabled: !playable, "aria-label": `Play ${event.label} on ${cameraName(event.camera_id)} at ${when(event.ts)}` },
        thumb,
        playable ? h("span", { class: "thumb-play", "aria-hidden": "true" }, "▶") : null,
        h("span", { class: "thumb-badge" }, event.in_progress ? "● live" : duration(event.duration))),
      h("div", { class: "card-body" },
        h("div", { class: "row" }, h("span", { class: `label-badge kind-${event.kind}`, text: event.label }),
          selectBox(`Select event ${event.id}`)),
        h("div", { class: "strong", text: cameraName(event.camera_id) }),
        h("div", { class: "row" }, h("span", { class: "muted small", text: when(event.ts) }),
          h("a", { class: "small", href: recordingsHref(event.camera_id, { event }), "aria-label": `Event ${event.id} on the timeline` }, "Timeline")),
        event.person_name ? h("div", { class: "small", text: `Person: ${event.person_name}` }) : null));
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
    selection: { selectAll: "Select page" },
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
  addActions(header, list.clearButton);
  replace(results, list.el);

  await list.load();
  const focusId = Number(query.get("event"));
  if (focusId) {
    api.events.get(focusId, { signal }).then(play).catch((error) => toastError("That event cannot be opened", error));
  }
}
