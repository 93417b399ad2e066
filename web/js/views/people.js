// People: the enrolled-faces database; add someone, then enroll photos on their page.

import { api, isUnavailable, itemsOf, offers } from "../api.js";
import { confirmDialog } from "../components/dialog.js";
import { emptyState, errorState, field, h, pageHeader, replace, spinner, unavailableState } from "../components/dom.js";
import { ago } from "../components/format.js";
import { toast, toastError } from "../components/toast.js";

export async function mount(root, { signal, rerender }) {
  const list = h("div", { class: "card-grid people-grid" }, spinner("Loading people…"));
  const name = h("input", { class: "input", type: "text", name: "name", required: true, maxlength: 200, placeholder: "Full name" });
  const notes = h("input", { class: "input", type: "text", name: "notes", maxlength: 5000, placeholder: "Optional" });
  const create = h("form", { class: "card inline-form" },
    h("h2", { text: "Add a person" }),
    h("div", { class: "form-row" }, field("Name", name), field("Notes", notes),
      h("button", { class: "btn btn-primary", type: "submit" }, "Add person")));
  replace(root, pageHeader("People", "Known people for face recognition. Enroll a clear photo of each face."), create, list);

  if (!(await offers("/api/people"))) {
    replace(list, unavailableState("People"));
    create.hidden = true;
    return;
  }

  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const person = await api("/api/people", { method: "POST", json: { name: name.value.trim(), notes: notes.value.trim() || null } });
      toast(`Added ${person.name}. Now enroll a photo.`, "success");
      location.hash = `#/people/${person.id}`;
    } catch (error) {
      toastError("The person could not be added", error);
    }
  });

  async function remove(person) {
    if (!(await confirmDialog({ title: `Delete ${person.name}?`, message: "Their enrolled faces and photos are deleted; past events keep the name. This cannot be undone." }))) return;
    try {
      await api(`/api/people/${person.id}`, { method: "DELETE" });
      toast(`Deleted ${person.name}.`, "success");
      load();
    } catch (error) {
      toastError("Delete failed", error);
    }
  }

  async function load() {
    try {
      const { items } = itemsOf(await api("/api/people", { signal }));
      replace(list, items.length ? items.map((person) => h("article", { class: "person-card", dataset: { person: person.id } },
        h("a", { class: "avatar", href: `#/people/${person.id}`, "aria-hidden": "true", tabindex: -1 }, (person.name || "?").slice(0, 1).toUpperCase()),
        h("div", { class: "card-body" },
          h("a", { class: "strong", href: `#/people/${person.id}`, text: person.name }),
          h("div", { class: "small muted" }, `${person.num_faces ?? 0} face${person.num_faces === 1 ? "" : "s"} enrolled`),
          person.notes ? h("div", { class: "small", text: person.notes }) : null,
          person.created_at ? h("div", { class: "small muted" }, `Added ${ago(person.created_at)}`) : null),
        h("button", { class: "btn btn-small btn-danger-ghost", type: "button", onclick: () => remove(person) }, "Delete")))
        : emptyState("Nobody enrolled yet", "Add a person above, then upload a photo of their face."));
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(list, isUnavailable(error) ? unavailableState("People", error) : errorState(error, rerender));
      if (isUnavailable(error)) create.hidden = true;
    }
  }
  await load();
}
