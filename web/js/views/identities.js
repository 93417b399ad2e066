// Identities: everyone and everything seen across cameras; filter, merge and delete.

import { openDialog } from "../components/dialog.js";
import { addActions, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { ago, duration } from "../components/format.js";
import { cameraLabels, identityName, identityThumb } from "../components/identity-card.js";
import { counted, listPage } from "../components/list-page.js";
import { cameraNamer } from "../components/status.js";
import { toast } from "../components/toast.js";
import { api } from "../endpoints.js";

const NOUN = { one: "identity", many: "identities" };
const CLASSES = ["person", "car", "truck", "bus", "motorcycle", "bicycle", "dog", "cat"];

/** Ask which of the chosen identities to keep, then merge the others into it. */
async function merge(chosen) {
  const preferred = chosen.find((i) => i.is_named) || chosen.reduce((a, b) => (b.num_sightings > a.num_sightings ? b : a));
  const options = chosen.map((identity) => h("label", { class: "choice" },
    h("input", { type: "radio", name: "target", value: String(identity.id), checked: identity.id === preferred.id }),
    h("span", { class: "choice-thumb" }, identityThumb(identity)),
    h("span", {}, h("strong", { text: identityName(identity) }), h("span", { class: "muted small", text: ` · ${identity.num_sightings} sightings` }))));
  const targetId = await openDialog({
    title: `Merge ${chosen.length} identities`,
    submit: "Merge",
    body: [h("p", { class: "dialog-message", text: "Keep which one? The others' sightings, faces and clips move to it, then they are removed." }),
      h("div", { class: "choices", role: "radiogroup" }, options)],
    onSubmit: (form) => Number(new FormData(form).get("target")),
  });
  if (!targetId) return false;
  const result = await api.identities.merge(targetId, chosen.map((i) => i.id).filter((id) => id !== targetId));
  toast(result.detail || `Merged into ${identityName(chosen.find((i) => i.id === targetId))}.`, "success");
  return true;
}

export async function mount(root, ctx) {
  const { query, signal, rerender } = ctx;
  const filters = {
    named_only: query.get("named_only") === "true" || "",
    min_sightings: query.get("min_sightings") || "",
    object_class: query.get("object_class") || "",
  };
  const body = h("div", {}, spinner("Loading identities…"));
  const header = pageHeader("Identities", "People and objects followed across cameras. Select several to merge them.");
  replace(root, header, body);

  const cameras = await loadOrExplain(body, () => api.cameras.list({ signal }), { retry: rerender });
  if (!cameras) return;
  const cameraName = cameraNamer(cameras);

  const named = h("input", { type: "checkbox", name: "named_only", checked: Boolean(filters.named_only) });
  const minSightings = h("input", { class: "input", type: "number", name: "min_sightings", min: 0, max: 100000, step: 1, value: filters.min_sightings, placeholder: "Any" });
  const objectClass = h("select", { class: "input", name: "object_class", value: filters.object_class },
    h("option", { value: "" }, "All classes"), CLASSES.map((c) => h("option", { value: c }, c)));
  const filterForm = h("form", { class: "filters", role: "search" },
    field("Class", objectClass), field("Min. sightings", minSightings),
    h("label", { class: "check filter-check" }, named, "Named only"),
    h("div", { class: "filters-actions" }, h("button", { class: "btn", type: "submit" }, "Apply")));
  const apply = (event) => {
    if (event) event.preventDefault();
    Object.assign(filters, { named_only: named.checked || "", min_sightings: minSightings.value, object_class: objectClass.value });
    list.reset();
  };
  filterForm.addEventListener("change", () => apply());
  filterForm.addEventListener("submit", apply);

  function card(identity, { selectBox }) {
    const where = cameraLabels(identity.cameras, cameraName);
    return h("article", { class: "identity-card", dataset: { identity: identity.id } },
      h("a", { class: "thumb", href: `#/identities/${identity.id}`, "aria-label": `Open ${identityName(identity)}` }, identityThumb(identity),
        h("span", { class: "thumb-badge" }, `${identity.num_sightings} seen`)),
      h("div", { class: "card-body" },
        h("div", { class: "row" },
          h("a", { class: ["strong", identity.is_named ? "" : "muted"], href: `#/identities/${identity.id}`, text: identityName(identity) }),
          selectBox(`Select ${identityName(identity)}`)),
        h("div", { class: "small muted" }, `${identity.object_class} · ${duration(identity.total_seconds)} in view`),
        h("div", { class: "small muted" }, `Last seen ${ago(identity.last_seen)}`),
        where.length ? h("div", { class: "small", text: where.join(", ") }) : null));
  }

  const list = listPage(ctx, {
    noun: NOUN,
    loading: "Loading identities…",
    gridClass: "card-grid identity-grid",
    before: filterForm,
    filters,
    fetchPage: api.identities.list,
    card,
    empty: { title: "No identities yet", body: "Identities appear as cameras with re-ID enabled see people and objects." },
    paging: { sizes: [60] },
    selection: {
      hint: "Select identities to merge or delete them.",
      actions: [{ label: "Merge…", className: "btn-primary", min: 2, run: merge }],
    },
    remove: {
      confirm: (n) => ({ title: `Delete ${counted(n, NOUN)}?`, message: "Their sightings, face samples and crops are deleted, and clips nobody else appears in go too. This cannot be undone." }),
      run: (ids) => api.identities.bulkDelete(ids),
    },
    clearAll: {
      confirm: () => ({
        title: `Delete all identities${filters.object_class ? ` of class “${filters.object_class}”` : ""}?`,
        message: "Every identity, its sightings and crops are deleted. This cannot be undone.",
      }),
      run: () => api.identities.clearAll(filters.object_class ? { object_class: filters.object_class } : {}),
    },
  });
  addActions(header, list.clearButton);
  replace(body, list.el);
  await list.load();
}
