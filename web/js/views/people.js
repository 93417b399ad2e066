// People: the enrolled-faces database; add someone, then enroll photos on their page.

import { isServiceUnavailable } from "../api.js";
import { confirmDialog } from "../components/dialog.js";
import { emptyState, field, h, pageHeader, replace, unavailableState } from "../components/dom.js";
import { ago } from "../components/format.js";
import { listPage } from "../components/list-page.js";
import { toast, toastError } from "../components/toast.js";
import { api } from "../endpoints.js";

export async function mount(root, ctx) {
  const name = h("input", { class: "input", type: "text", name: "name", required: true, maxlength: 200, placeholder: "Full name" });
  const notes = h("input", { class: "input", type: "text", name: "notes", maxlength: 5000, placeholder: "Optional" });
  const create = h("form", { class: "card inline-form admin-only" },
    h("h2", { text: "Add a person" }),
    h("div", { class: "form-row" }, field("Name", name), field("Notes", notes),
      h("button", { class: "btn btn-primary", type: "submit" }, "Add person")));
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const person = await api.people.create({ name: name.value.trim(), notes: notes.value.trim() || null });
      toast(`Added ${person.name}. Now enroll a photo.`, "success");
      location.hash = `#/people/${person.id}`;
    } catch (error) {
      toastError("The person could not be added", error);
    }
  });

  async function remove(person) {
    if (!(await confirmDialog({ title: `Delete ${person.name}?`, message: "Their enrolled faces and photos are deleted; past events keep the name. This cannot be undone." }))) return;
    try {
      await api.people.remove(person.id);
      toast(`Deleted ${person.name}.`, "success");
      list.load();
    } catch (error) {
      toastError("Delete failed", error);
    }
  }

  const card = (person) => h("article", { class: "person-card", dataset: { person: person.id } },
    h("a", { class: "avatar", href: `#/people/${person.id}`, "aria-hidden": "true", tabindex: -1 }, person.name.slice(0, 1).toUpperCase()),
    h("div", { class: "card-body" },
      h("a", { class: "strong", href: `#/people/${person.id}`, text: person.name }),
      h("div", { class: "small muted" }, `${person.num_faces} face${person.num_faces === 1 ? "" : "s"} enrolled`),
      person.notes ? h("div", { class: "small", text: person.notes }) : null,
      h("div", { class: "small muted" }, `Added ${ago(person.created_at)}`)),
    h("button", { class: "btn btn-small btn-danger-ghost admin-only", type: "button", onclick: () => remove(person) }, "Delete"));

  const list = listPage(ctx, {
    noun: { one: "person", many: "people" },
    loading: "Loading people…",
    gridClass: "card-grid people-grid",
    fetchPage: async (_query, opts) => {
      const items = await api.people.list(opts);
      return { items, total: items.length };
    },
    card,
    empty: () => emptyState("Nobody enrolled yet", "Add a person above, then upload a photo of their face."),
    failed(error) {
      if (!isServiceUnavailable(error)) return null;
      create.hidden = true; // no face models: nobody can be enrolled
      return unavailableState("People", error);
    },
  });
  replace(root, pageHeader("People", "Known people for face recognition. Enroll a clear photo of each face."), create, list.el);
  await list.load();
}
