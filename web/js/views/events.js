// Events: filter, page through and play recordings; delete one, a selection, or all.

import { api, offers } from "../api.js";
import { confirmDialog } from "../components/dialog.js";
import { emptyState, errorState, field, h, pageHeader, replace, spinner } from "../components/dom.js";
import { duration, isoToLocalInput, localInputToIso, when } from "../components/format.js";
import { mediaImg } from "../components/media.js";
import { playEvent } from "../components/player.js";
import { toast, toastError } from "../components/toast.js";

const PAGE_SIZES = [24, 48, 96];
const FILTERS = ["camera_id", "label", "person_id", "from", "to"];
const IN_PROGRESS_POLL_MS = 5000;

export async function mount(root, { query, signal, setQuery, rerender }) {
  const state = {
    filters: Object.fromEntries(FILTERS.map((key) => [key, query.get(key) || ""])),
    limit: PAGE_SIZES.includes(Number(query.get("limit"))) ? Number(query.get("limit")) : PAGE_SIZES[0],
    offset: Math.max(0, Number(query.get("offset")) || 0),
    selected: new Set(),
    page: [],
  };
  const results = h("div", { class: "results" }, spinner("Loading events…"));
  const clearBtn = h("button", { class: "btn btn-danger-ghost", type: "button" }, "Clear all…");
  replace(root, pageHeader("Events", "Recordings, newest first.", clearBtn), results);

  let cameras = [];
  let people = null;
  let labels = [];
  try {
    const [cameraList, detect, hasPeople] = await Promise.all([
      api("/api/cameras", { signal }),
      api("/api/cameras/detect/classes", { signal }).catch(() => ({ classes: [] })),
      offers("/api/people"),
    ]);
    cameras = cameraList;
    labels = ["manual", "motion", ...(detect.classes || [])];
    people = hasPeople ? await api("/api/people", { signal }).catch(() => null) : null;
  } catch (error) {
    replace(results, errorState(error, rerender));
    return;
  }
  const cameraName = (id) => (cameras.find((c) => c.id === id) || {}).name || `Camera ${id}`;

  // ---- filter bar
  const cameraSelect = h("select", { class: "input", name: "camera_id", value: state.filters.camera_id },
    h("option", { value: "" }, "All cameras"), cameras.map((c) => h("option", { value: String(c.id) }, c.name)));
  const labelInput = h("input", { class: "input", type: "search", name: "label", list: "event-labels", value: state.filters.label, placeholder: "Any label", maxlength: 50 });
  const personSelect = h("select", { class: "input", name: "person_id", value: state.filters.person_id, disabled: !people,
    title: people ? null : "People are not available on this server" },
  h("option", { value: "" }, people ? "Anyone" : "Not available"), (Array.isArray(people) ? people : (people && people.items) || [])
    .map((p) => h("option", { value: String(p.id) }, p.name)));
  const fromInput = h("input", { class: "input", type: "datetime-local", name: "from", value: isoToLocalInput(state.filters.from) });
  const toInput = h("input", { class: "input", type: "datetime-local", name: "to", value: isoToLocalInput(state.filters.to) });
  const filterForm = h("form", { class: "filters", role: "search" },
    field("Camera", cameraSelect), field("Label", labelInput), field("Person", personSelect),
    field("From", fromInput), field("To", toInput),
    h("datalist", { id: "event-labels" }, labels.map((l) => h("option", { value: l }))),
    h("div", { class: "filters-actions" }, h("button", { class: "btn", type: "submit" }, "Apply"),
      h("button", { class: "btn btn-ghost", type: "reset" }, "Reset")));
  const readFilters = () => ({
    camera_id: cameraSelect.value, label: labelInput.value.trim(), person_id: personSelect.value,
    from: localInputToIso(fromInput.value), to: localInputToIso(toInput.value),
  });
  const applyFilters = () => {
    state.filters = readFilters();
    state.offset = 0;
    load();
  };
  filterForm.addEventListener("change", applyFilters);
  filterForm.addEventListener("submit", (event) => { event.preventDefault(); applyFilters(); });
  filterForm.addEventListener("reset", () => setTimeout(applyFilters, 0));

  // ---- selection bar and pager
  const selectAll = h("input", { type: "checkbox", "aria-label": "Select every event on this page" });
  const selectedCount = h("span", { class: "muted" });
  const deleteSelected = h("button", { class: "btn btn-danger", type: "button", disabled: true }, "Delete selected");
  const bulkBar = h("div", { class: "toolbar bulk-bar" }, h("label", { class: "check" }, selectAll, "Select page"), selectedCount, deleteSelected);
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const grid = h("div", { class: "card-grid" });
  replace(results, filterForm, bulkBar, grid, pager);

  function syncSelection() {
    const n = state.selected.size;
    selectedCount.textContent = n ? `${n} selected` : "";
    deleteSelected.disabled = n === 0;
    selectAll.checked = state.page.length > 0 && state.page.every((e) => state.selected.has(e.id));
    for (const box of grid.querySelectorAll("input[data-select]")) box.checked = state.selected.has(Number(box.dataset.select));
  }
  selectAll.addEventListener("change", () => {
    for (const e of state.page) {
      if (selectAll.checked) state.selected.add(e.id);
      else state.selected.delete(e.id);
    }
    syncSelection();
  });

  function card(event) {
    const playable = Boolean(event.clip_url);
    const open = () => playable && playEvent(event, { cameraName: cameraName(event.camera_id), onDeleted: () => load() });
    const thumb = event.thumb_url ? mediaImg(event.thumb_url, { alt: "" }) : h("div", { class: "no-thumb", text: event.in_progress ? "Recording…" : "No thumbnail" });
    const box = h("input", { type: "checkbox", dataset: { select: event.id }, checked: state.selected.has(event.id), "aria-label": `Select event ${event.id}` });
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(event.id);
      else state.selected.delete(event.id);
      syncSelection();
    });
    return h("article", { class: "event-card", dataset: { event: event.id } },
      h("button", { class: "thumb", type: "button", onclick: open, disabled: !playable, "aria-label": `Play ${event.label} on ${cameraName(event.camera_id)} at ${when(event.ts)}` },
        thumb,
        playable ? h("span", { class: "thumb-play", "aria-hidden": "true" }, "▶") : null,
        h("span", { class: "thumb-badge" }, event.in_progress ? "● live" : duration(event.duration))),
      h("div", { class: "card-body" },
        h("div", { class: "row" }, h("span", { class: `label-badge kind-${event.kind}`, text: event.label }),
          h("label", { class: "check select-one" }, box)),
        h("div", { class: "strong", text: cameraName(event.camera_id) }),
        h("div", { class: "muted small", text: when(event.ts) }),
        event.person_name ? h("div", { class: "small", text: `Person: ${event.person_name}` }) : null));
  }

  function renderPager(total) {
    pager.hidden = total === 0;
    const first = total ? state.offset + 1 : 0;
    const last = Math.min(total, state.offset + state.limit);
    const size = h("select", { class: "input input-small", "aria-label": "Events per page", value: String(state.limit) },
      PAGE_SIZES.map((n) => h("option", { value: String(n) }, `${n} / page`)));
    size.addEventListener("change", () => { state.limit = Number(size.value); state.offset = 0; load(); });
    replace(pager,
      h("span", { class: "muted" }, `${first}–${last} of ${total}`),
      h("button", { class: "btn btn-small", type: "button", disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); load(); } }, "‹ Newer"),
      h("button", { class: "btn btn-small", type: "button", disabled: last >= total, onclick: () => { state.offset += state.limit; load(); } }, "Older ›"),
      size);
  }

  let loadSeq = 0;
  let pending = 0;
  let lastShown = ""; // re-render only on change, so a refresh keeps focus and scroll
  async function load({ quiet = false } = {}) {
    const seq = ++loadSeq;
    setQuery({ ...state.filters, limit: state.limit === PAGE_SIZES[0] ? "" : state.limit, offset: state.offset || "" });
    if (!quiet) grid.setAttribute("aria-busy", "true");
    try {
      const page = await api("/api/events", { signal, query: { ...state.filters, limit: state.limit, offset: state.offset } });
      if (seq !== loadSeq) return;
      if (!page.items.length && state.offset > 0 && page.total > 0) {
        state.offset = Math.max(0, Math.floor((page.total - 1) / state.limit) * state.limit);
        load();
        return;
      }
      state.page = page.items;
      const visible = new Set(page.items.map((e) => e.id));
      for (const id of state.selected) if (!visible.has(id)) state.selected.delete(id);
      const filtered = Object.values(state.filters).some(Boolean);
      const shown = JSON.stringify([state.filters, page.total, page.items]);
      if (shown !== lastShown) replace(grid, page.items.length ? page.items.map(card) : emptyState(filtered ? "No events match" : "No events yet",
        filtered ? "Try widening the filters." : "Recordings appear here when a camera sees something, or when you record from Live."));
      lastShown = shown;
      renderPager(page.total);
      syncSelection();
      // A recording still in progress gets its clip soon: look again until it has one.
      clearTimeout(pending);
      if (page.items.some((e) => e.in_progress) && !signal.aborted) pending = setTimeout(() => load({ quiet: true }), IN_PROGRESS_POLL_MS);
    } catch (error) {
      if (error.name === "AbortError") return;
      lastShown = "";
      replace(grid, errorState(error, () => load()));
    } finally {
      grid.removeAttribute("aria-busy");
    }
  }

  deleteSelected.addEventListener("click", async () => {
    const ids = [...state.selected];
    if (!ids.length) return;
    if (!(await confirmDialog({ title: `Delete ${ids.length} event${ids.length > 1 ? "s" : ""}?`, message: "Their clips and thumbnails are deleted too. This cannot be undone." }))) return;
    try {
      const result = await api("/api/events/bulk-delete", { method: "POST", json: { ids } });
      toast(`Deleted ${result.deleted} event${result.deleted === 1 ? "" : "s"}.`, "success");
      state.selected.clear();
      load();
    } catch (error) {
      toastError("Delete failed", error);
    }
  });

  clearBtn.addEventListener("click", async () => {
    const scope = [state.filters.camera_id ? `from ${cameraName(Number(state.filters.camera_id))}` : "",
      state.filters.label ? `labelled “${state.filters.label}”` : ""].filter(Boolean).join(" ");
    if (!(await confirmDialog({
      title: scope ? `Delete all events ${scope}?` : "Delete ALL events?",
      message: `${scope ? "Every event matching the camera and label filters" : "Every recorded event of every camera"} is deleted with its clip and thumbnail. Identities and sightings stay. This cannot be undone.`,
      confirm: "Delete all",
    }))) return;
    try {
      const body = { confirm: true };
      if (state.filters.camera_id) body.camera_id = Number(state.filters.camera_id);
      if (state.filters.label) body.label = state.filters.label;
      const result = await api("/api/events/clear-all", { method: "POST", json: body });
      toast(`Deleted ${result.deleted} event${result.deleted === 1 ? "" : "s"}.`, "success");
      state.selected.clear();
      state.offset = 0;
      load();
    } catch (error) {
      toastError("Clear all failed", error);
    }
  });

  await load();
  const focusId = Number(query.get("event"));
  if (focusId) {
    api(`/api/events/${focusId}`, { signal })
      .then((event) => playEvent(event, { cameraName: cameraName(event.camera_id), onDeleted: () => load() }))
      .catch((error) => toastError("That event cannot be opened", error));
  }
  return () => clearTimeout(pending);
}
