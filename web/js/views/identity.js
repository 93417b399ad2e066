// One identity (#/identities/<id>): rename, its sightings on a timeline, split, clips, faces.

import { confirmDialog, promptDialog } from "../components/dialog.js";
import { backLink, emptyState, errorState, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { duration, when } from "../components/format.js";
import { cameraLabels, identityName, identityThumb } from "../components/identity-card.js";
import { mediaImg } from "../components/media.js";
import { clipChip } from "../components/player.js";
import { cameraNamer } from "../components/status.js";
import { sightingTimeline } from "../components/timeline.js";
import { toast, toastError } from "../components/toast.js";
import { api } from "../endpoints.js";

const SIGHTINGS = 500;

export async function mount(root, { arg, signal, rerender }) {
  const id = Number(arg);
  replace(root, spinner("Loading identity…"));
  const loaded = await loadOrExplain(root, () => Promise.all([api.identities.get(id, { recent: 0 }, { signal }), api.cameras.list({ signal })]), {
    retry: rerender, notFound: () => emptyState("Identity not found", "It may have been merged or deleted.", backLink("#/identities", "All identities")),
  });
  if (!loaded) return;
  let identity = loaded[0]; // replaced by what a rename answers
  const cameraName = cameraNamer(loaded[1]);
  const selected = new Set();
  let sightings = [];

  // ---- rename / annotate
  const nameInput = h("input", { class: "input", type: "text", name: "name", value: identity.name || "", maxlength: 200, placeholder: `Unknown #${id}` });
  const notesInput = h("textarea", { class: "input", name: "notes", rows: 2, maxlength: 5000, value: identity.notes || "", placeholder: "Notes" });
  const namedBox = h("input", { type: "checkbox", name: "is_named", checked: Boolean(identity.is_named) });
  nameInput.addEventListener("input", () => { if (nameInput.value.trim()) namedBox.checked = true; });
  const renameForm = h("form", { class: "form rename-form" },
    field("Name", nameInput), field("Notes", notesInput),
    h("label", { class: "check" }, namedBox, "Named (automatic merges leave it alone)"),
    h("div", { class: "form-actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save")));
  renameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    try {
      // A blank name is left out (not sent as null): the name stays, `is_named` says whether it counts.
      const body = { notes: notesInput.value, is_named: namedBox.checked, ...(name ? { name } : {}) };
      identity = await api.identities.update(id, body);
      toast(`Saved ${identityName(identity)}.`, "success");
      title.textContent = identityName(identity);
    } catch (error) {
      toastError("Rename failed", error);
    }
  });

  const removeBtn = h("button", { class: "btn btn-danger-ghost admin-only", type: "button" }, "Delete identity");
  removeBtn.addEventListener("click", async () => {
    if (!(await confirmDialog({ title: `Delete ${identityName(identity)}?`, message: "Its sightings, face samples and crops are deleted, and clips nobody else appears in go too. This cannot be undone." }))) return;
    try {
      await api.identities.remove(id);
      toast("Identity deleted.", "success");
      location.hash = "#/identities";
    } catch (error) {
      toastError("Delete failed", error);
    }
  });

  const head = pageHeader(identityName(identity), "", h("a", { class: "btn btn-ghost", href: "#/identities" }, "← All identities"), removeBtn);
  const title = head.querySelector("h1");
  const facts = h("dl", { class: "meta" },
    h("dt", {}, "Class"), h("dd", {}, identity.object_class),
    h("dt", {}, "Sightings"), h("dd", {}, String(identity.num_sightings)),
    h("dt", {}, "Time in view"), h("dd", {}, duration(identity.total_seconds)),
    h("dt", {}, "First seen"), h("dd", {}, when(identity.first_seen)),
    h("dt", {}, "Last seen"), h("dd", {}, when(identity.last_seen)),
    h("dt", {}, "Cameras"), h("dd", {}, cameraLabels(identity.cameras, cameraName).join(", ") || "—"),
    identity.color ? [h("dt", {}, "Colour"), h("dd", {}, h("span", { class: "swatch", style: { background: identity.color_hex || identity.color } }), ` ${identity.color}`)] : null,
    identity.make ? [h("dt", {}, "Make"), h("dd", {}, identity.make)] : null,
    identity.vehicle_type ? [h("dt", {}, "Type"), h("dd", {}, identity.vehicle_type)] : null);

  // ---- timeline + sightings (split)
  const timeline = h("div", { class: "timeline-wrap" }, spinner("Loading sightings…"));
  const sightingGrid = h("div", { class: "thumb-grid" });
  const splitBtn = h("button", { class: "btn btn-primary", type: "button", disabled: true }, "Split selected…");
  const autoBtn = h("button", { class: "btn btn-ghost", type: "button" }, "Auto split");
  const splitCount = h("span", { class: "muted" }, "Select sightings on the timeline or below to split them off.");

  function renderSightings() {
    replace(timeline, sightings.length ? sightingTimeline(sightings, cameraName, { selected, onToggle: toggle }) : emptyState("No sightings", ""));
    replace(sightingGrid, sightings.map((s) => {
      const url = s.thumb_url;
      const on = selected.has(s.id);
      return h("button", {
        class: ["sighting", on ? "selected" : ""], type: "button", "aria-pressed": String(on), dataset: { sighting: s.id },
        title: `${cameraName(s.camera_id)} · ${when(s.ts)}${s.match_kind ? ` · matched by ${s.match_kind}` : ""}`, onclick: () => toggle(s.id),
      }, url ? mediaImg(url, { alt: `Sighting ${s.id}` }) : h("div", { class: "no-thumb", text: "—" }),
      h("span", { class: "sighting-caption" }, `${cameraName(s.camera_id)} · ${when(s.ts)}`));
    }));
    splitBtn.disabled = selected.size === 0 || selected.size >= sightings.length;
    splitCount.textContent = selected.size ? `${selected.size} selected` : "Select sightings on the timeline or below to split them off.";
  }
  function toggle(sid) {
    if (selected.has(sid)) selected.delete(sid);
    else selected.add(sid);
    renderSightings();
    const again = root.querySelector(`.timeline [data-sighting="${sid}"]`);
    if (again && document.activeElement === document.body) again.focus();
  }

  async function split(body) {
    try {
      const result = await api.identities.split(id, body);
      toast(result.detail || "Split into a new identity.", "success");
      const other = result.target_id;
      if (other && other !== id) location.hash = `#/identities/${other}`;
      else rerender();
    } catch (error) {
      toastError("Split failed", error);
    }
  }
  splitBtn.addEventListener("click", async () => {
    const newName = await promptDialog({ title: `Split ${selected.size} sighting${selected.size === 1 ? "" : "s"} off`, label: "Name for the new identity (optional)", required: false, confirm: "Split" });
    if (newName === null) return;
    split(newName ? { sighting_ids: [...selected], new_name: newName } : { sighting_ids: [...selected] });
  });
  autoBtn.addEventListener("click", async () => {
    if (await confirmDialog({ title: "Auto split?", message: "Iris re-clusters this identity's sightings into two, faces first.", confirm: "Auto split", danger: false })) split({ auto: true });
  });

  // ---- clips and faces
  const clips = h("div", { class: "card-grid compact" }, spinner("Loading clips…"));
  const faces = h("div", { class: "thumb-grid faces" }, spinner("Loading faces…"));

  replace(root, head,
    h("div", { class: "detail-top" },
      h("div", { class: "detail-thumb" }, identityThumb(identity)),
      h("section", { class: "card" }, facts),
      h("section", { class: "card admin-only" }, h("h2", { text: "Name and notes" }), renameForm)),
    h("section", { class: "card" }, h("h2", { text: "Sightings across cameras" }), timeline,
      h("div", { class: "toolbar admin-only" }, splitCount, splitBtn, autoBtn), sightingGrid),
    h("section", { class: "card" }, h("h2", { text: "Clips" }), clips),
    h("section", { class: "card" }, h("h2", { text: "Faces" }), faces));

  const failed = (where) => (error) => { if (error.name !== "AbortError") replace(where, errorState(error)); };
  api.identities.sightings(id, { limit: SIGHTINGS }, { signal })
    .then((page) => { sightings = page.items; renderSightings(); })
    .catch(failed(timeline));
  api.identities.events(id, { signal })
    .then(({ items }) => replace(clips, items.length
      ? items.map((event) => clipChip(event, cameraName(event.camera_id)))
      : emptyState("No clips", "No recording includes this identity.")))
    .catch(failed(clips));
  api.identities.faces(id, { signal })
    .then(({ items }) => replace(faces, items.length ? items.map((face) => h("figure", { class: "face" },
      mediaImg(face.thumb_url, { alt: `Face ${face.id}` }), h("figcaption", { class: "small muted", text: when(face.ts) })))
      : emptyState("No faces", "No face was captured for this identity.")))
    .catch(failed(faces));
}
