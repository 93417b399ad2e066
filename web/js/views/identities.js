// Identities: everyone and everything seen across cameras; filter, merge and delete.

import { api, isUnavailable, itemsOf, offers } from "../api.js";
import { confirmDialog, openDialog } from "../components/dialog.js";
import { emptyState, errorState, field, h, pageHeader, replace, spinner, unavailableState } from "../components/dom.js";
import { ago, duration } from "../components/format.js";
import { cameraLabels, identityName, identityThumb } from "../components/identity-card.js";
import { toast, toastError } from "../components/toast.js";

const PAGE = 60;
const CLASSES = ["person", "car", "truck", "bus", "motorcycle", "bicycle", "dog", "cat"];

export async function mount(root, { query, signal, setQuery, rerender }) {
  const state = {
    named_only: query.get("named_only") === "true",
    min_sightings: query.get("min_sightings") || "",
    object_class: query.get("object_class") || "",
    offset: Math.max(0, Number(query.get("offset")) || 0),
    selected: new Set(),
    items: [],
  };
  const body = h("div", {}, spinner("Loading identities…"));
  const clearBtn = h("button", { class: "btn btn-danger-ghost", type: "button" }, "Clear all…");
  replace(root, pageHeader("Identities", "People and objects followed across cameras. Select several to merge them.", clearBtn), body);

  if (!(await offers("/api/identities"))) {
    replace(body, unavailableState("Identities"));
    clearBtn.hidden = true;
    return;
  }
  let cameras = [];
  try {
    cameras = await api("/api/cameras", { signal });
  } catch (error) {
    replace(body, errorState(error, rerender));
    return;
  }
  const cameraName = (id) => (cameras.find((c) => c.id === id) || {}).name || `Camera ${id}`;

  const named = h("input", { type: "checkbox", name: "named_only", checked: state.named_only });
  const minSightings = h("input", { class: "input", type: "number", name: "min_sightings", min: 0, max: 100000, step: 1, value: state.min_sightings, placeholder: "Any" });
  const objectClass = h("select", { class: "input", name: "object_class", value: state.object_class },
    h("option", { value: "" }, "All classes"), CLASSES.map((c) => h("option", { value: c }, c)));
  const filters = h("form", { class: "filters", role: "search" },
    field("Class", objectClass), field("Min. sightings", minSightings),
    h("label", { class: "check filter-check" }, named, "Named only"),
    h("div", { class: "filters-actions" }, h("button", { class: "btn", type: "submit" }, "Apply")));
  const apply = (event) => {
    if (event) event.preventDefault();
    state.named_only = named.checked;
    state.min_sightings = minSightings.value;
    state.object_class = objectClass.value;
    state.offset = 0;
    load();
  };
  filters.addEventListener("change", () => apply());
  filters.addEventListener("submit", apply);

  const count = h("span", { class: "muted" });
  const mergeBtn = h("button", { class: "btn btn-primary", type: "button", disabled: true }, "Merge…");
  const deleteBtn = h("button", { class: "btn btn-danger", type: "button", disabled: true }, "Delete selected");
  const grid = h("div", { class: "card-grid identity-grid" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  replace(body, filters, h("div", { class: "toolbar bulk-bar" }, count, mergeBtn, deleteBtn), grid, pager);

  function sync() {
    const n = state.selected.size;
    count.textContent = n ? `${n} selected` : "Select identities to merge or delete them.";
    mergeBtn.disabled = n < 2;
    deleteBtn.disabled = n === 0;
    for (const card of grid.querySelectorAll(".identity-card")) {
      const on = state.selected.has(Number(card.dataset.identity));
      card.classList.toggle("selected", on);
      card.querySelector("input[type=checkbox]").checked = on;
    }
  }

  function card(identity) {
    const box = h("input", { type: "checkbox", "aria-label": `Select ${identityName(identity)}` });
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(identity.id);
      else state.selected.delete(identity.id);
      sync();
    });
    const where = cameraLabels(identity.cameras, cameraName);
    return h("article", { class: "identity-card", dataset: { identity: identity.id } },
      h("a", { class: "thumb", href: `#/identities/${identity.id}`, "aria-label": `Open ${identityName(identity)}` }, identityThumb(identity),
        h("span", { class: "thumb-badge" }, `${identity.num_sightings ?? 0} seen`)),
      h("div", { class: "card-body" },
        h("div", { class: "row" },
          h("a", { class: ["strong", identity.is_named ? "" : "muted"], href: `#/identities/${identity.id}`, text: identityName(identity) }),
          h("label", { class: "check select-one" }, box)),
        h("div", { class: "small muted" }, `${identity.object_class || "person"} · ${duration(identity.total_seconds)} in view`),
        h("div", { class: "small muted" }, `Last seen ${ago(identity.last_seen)}`),
        where.length ? h("div", { class: "small", text: where.join(", ") }) : null));
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    setQuery({ named_only: state.named_only || "", min_sightings: state.min_sightings, object_class: state.object_class, offset: state.offset || "" });
    try {
      const payload = await api("/api/identities", {
        signal,
        query: { named_only: state.named_only || "", min_sightings: state.min_sightings, object_class: state.object_class, limit: PAGE, offset: state.offset },
      });
      if (mine !== seq) return;
      const { items, total } = itemsOf(payload);
      state.items = items;
      for (const id of state.selected) if (!items.some((i) => i.id === id)) state.selected.delete(id);
      const filtered = state.named_only || state.min_sightings || state.object_class;
      replace(grid, items.length ? items.map(card) : emptyState(filtered ? "No identities match" : "No identities yet",
        filtered ? "Try widening the filters." : "Identities appear as cameras with re-ID enabled see people and objects."));
      const shownTotal = Math.max(total, state.offset + items.length);
      replace(pager, h("span", { class: "muted" }, items.length ? `${state.offset + 1}–${state.offset + items.length} of ${shownTotal}` : ""),
        h("button", { class: "btn btn-small", type: "button", disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, "‹ Previous"),
        h("button", { class: "btn btn-small", type: "button", disabled: items.length < PAGE, onclick: () => { state.offset += PAGE; load(); } }, "Next ›"));
      sync();
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(grid, isUnavailable(error) ? unavailableState("Identities", error) : errorState(error, load));
    }
  }

  mergeBtn.addEventListener("click", async () => {
    const chosen = state.items.filter((i) => state.selected.has(i.id));
    if (chosen.length < 2) return;
    const preferred = chosen.find((i) => i.is_named) || chosen.reduce((a, b) => ((b.num_sightings || 0) > (a.num_sightings || 0) ? b : a));
    const options = chosen.map((identity) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "target", value: String(identity.id), checked: identity.id === preferred.id }),
      h("span", { class: "choice-thumb" }, identityThumb(identity)),
      h("span", {}, h("strong", { text: identityName(identity) }), h("span", { class: "muted small", text: ` · ${identity.num_sightings ?? 0} sightings` }))));
    const targetId = await openDialog({
      title: `Merge ${chosen.length} identities`,
      submit: "Merge",
      body: [h("p", { class: "dialog-message", text: "Keep which one? The others' sightings, faces and clips move to it, then they are removed." }),
        h("div", { class: "choices", role: "radiogroup" }, options)],
      onSubmit: (form) => Number(new FormData(form).get("target")),
    });
    if (!targetId) return;
    try {
      const result = await api("/api/identities/merge", { method: "POST", json: { target_id: targetId, source_ids: chosen.map((i) => i.id).filter((id) => id !== targetId) } });
      toast(result && result.detail ? result.detail : `Merged into ${identityName(chosen.find((i) => i.id === targetId))}.`, "success");
      state.selected.clear();
      load();
    } catch (error) {
      toastError("Merge failed", error);
    }
  });

  deleteBtn.addEventListener("click", async () => {
    const ids = [...state.selected];
    if (!(await confirmDialog({ title: `Delete ${ids.length} identit${ids.length === 1 ? "y" : "ies"}?`, message: "Their sightings, face samples and crops are deleted, and clips nobody else appears in go too. This cannot be undone." }))) return;
    try {
      await api("/api/identities/bulk-delete", { method: "POST", json: { ids } });
      toast("Deleted.", "success");
      state.selected.clear();
      load();
    } catch (error) {
      toastError("Delete failed", error);
    }
  });

  clearBtn.addEventListener("click", async () => {
    const scope = state.object_class ? ` of class “${state.object_class}”` : "";
    if (!(await confirmDialog({ title: `Delete all identities${scope}?`, message: "Every identity, its sightings and crops are deleted. This cannot be undone.", confirm: "Delete all" }))) return;
    try {
      await api("/api/identities/clear-all", { method: "POST", json: state.object_class ? { confirm: true, object_class: state.object_class } : { confirm: true } });
      toast("All identities deleted.", "success");
      state.selected.clear();
      state.offset = 0;
      load();
    } catch (error) {
      toastError("Clear all failed", error);
    }
  });

  await load();
}
