// One person (#/people/<id>): rename, enroll faces from photos, remove faces.

import { isServiceUnavailable } from "../api.js";
import { confirmDialog } from "../components/dialog.js";
import { backLink, emptyState, errorState, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { when } from "../components/format.js";
import { mediaImg } from "../components/media.js";
import { toast, toastError } from "../components/toast.js";
import { api } from "../endpoints.js";

export async function mount(root, { arg, signal, rerender }) {
  const id = Number(arg);
  replace(root, spinner("Loading person…"));
  let person = await loadOrExplain(root, () => api.people.get(id, { signal }), {
    retry: rerender, notFound: () => emptyState("Person not found", "They may have been deleted.", backLink("#/people", "All people")),
  });
  if (!person) return;

  // ---- details
  const nameInput = h("input", { class: "input", type: "text", name: "name", required: true, maxlength: 200, value: person.name });
  const notesInput = h("textarea", { class: "input", name: "notes", rows: 2, maxlength: 5000, value: person.notes || "" });
  const details = h("form", { class: "form" }, field("Name", nameInput), field("Notes", notesInput),
    h("div", { class: "form-actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save")));
  details.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      person = await api.people.update(id, { name: nameInput.value.trim(), notes: notesInput.value.trim() || null });
      head.querySelector("h1").textContent = person.name;
      toast("Saved.", "success");
    } catch (error) {
      toastError("Save failed", error);
    }
  });

  // ---- enrollment
  const file = h("input", { class: "input", type: "file", name: "file", accept: "image/*", required: true });
  const uploadBtn = h("button", { class: "btn btn-primary", type: "submit" }, "Enroll face");
  const uploadError = h("p", { class: "form-error", role: "alert", hidden: true });
  const enroll = h("form", { class: "form enroll-form" },
    field("Photo with one clear face", file, "JPEG or PNG, up to 8 MiB. The largest face in the photo is enrolled."),
    uploadError, h("div", { class: "form-actions" }, uploadBtn));
  enroll.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const form = new FormData();
    form.append("file", file.files[0]);
    uploadError.hidden = true;
    uploadBtn.disabled = true;
    uploadBtn.textContent = "Enrolling…";
    try {
      const result = await api.people.enroll(id, form);
      toast(result.faces_detected > 1 ? `Enrolled the largest of ${result.faces_detected} faces.` : "Face enrolled.", "success");
      enroll.reset();
      loadFaces();
    } catch (error) {
      uploadError.textContent = error.message; // the API's own words: no face, too large, …
      uploadError.hidden = false;
      // A 503: no face models on this server. Say so where enrolling happens, in its words.
      toastError(isServiceUnavailable(error) ? "Face recognition is unavailable" : "Enrollment failed", error);
    } finally {
      uploadBtn.disabled = false;
      uploadBtn.textContent = "Enroll face";
    }
  });

  const removeBtn = h("button", { class: "btn btn-danger-ghost admin-only", type: "button" }, "Delete person");
  removeBtn.addEventListener("click", async () => {
    if (!(await confirmDialog({ title: `Delete ${person.name}?`, message: "Their enrolled faces and photos are deleted; past events keep the name. This cannot be undone." }))) return;
    try {
      await api.people.remove(id);
      toast(`Deleted ${person.name}.`, "success");
      location.hash = "#/people";
    } catch (error) {
      toastError("Delete failed", error);
    }
  });

  const faces = h("div", { class: "thumb-grid faces" }, spinner("Loading faces…"));
  async function loadFaces() {
    try {
      const items = await api.people.faces(id, { signal });
      replace(faces, items.length ? items.map((face) => {
        const faceId = face.id;
        const del = async () => {
          if (!(await confirmDialog({ title: "Remove this face?", message: "The photo and its embedding are removed." }))) return;
          try {
            await api.people.removeFace(id, faceId);
            toast("Face removed.", "success");
            loadFaces();
          } catch (error) {
            toastError("Remove failed", error);
          }
        };
        return h("figure", { class: "face", dataset: { face: faceId } },
          mediaImg(face.image_url, { alt: `Enrolled face ${faceId}` }),
          h("figcaption", { class: "row small" }, h("span", { class: "muted", text: when(face.created_at) }),
            h("button", { class: "icon-btn admin-only", type: "button", "aria-label": "Remove this face", onclick: del }, "×")));
      }) : emptyState("No faces yet", "Upload a photo above to enroll this person's face."));
    } catch (error) {
      if (error.name !== "AbortError") replace(faces, errorState(error, loadFaces));
    }
  }

  const head = pageHeader(person.name, "", h("a", { class: "btn btn-ghost", href: "#/people" }, "← All people"), removeBtn);
  replace(root, head,
    h("div", { class: "two-col" },
      h("section", { class: "card admin-only" }, h("h2", { text: "Enroll a face" }), enroll),
      h("section", { class: "card admin-only" }, h("h2", { text: "Details" }), details)),
    h("section", { class: "card" }, h("h2", { text: "Enrolled faces" }), faces));
  loadFaces();
}
