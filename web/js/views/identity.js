// One identity (#/identities/<id>): rename, its sightings on a timeline, split, clips, faces.

import { api, isUnavailable, itemsOf, offers } from "../api.js";
import { confirmDialog, promptDialog } from "../components/dialog.js";
import { emptyState, errorState, field, h, pageHeader, replace, spinner, unavailableState } from "../components/dom.js";
import { duration, when } from "../components/format.js";
import { cameraLabels, identityName, identityThumb, sightingThumbUrl } from "../components/identity-card.js";
import { mediaImg } from "../components/media.js";
import { playEvent } from "../components/player.js";
import { sightingTimeline } from "../components/timeline.js";
import { toast, toastError } from "../components/toast.js";

const SIGHTINGS = 500;

export async function mount(root, { arg, signal, rerender }) {
  const id = Number(arg);
  replace(root, spinner("Loading identity…"));
  if (!(await offers("/api/identities"))) {
    replace(root, unavailableState("Identities"));
    return;
  }
  let identity;
  let cameras;
  try {
    [identity, cameras] = await Promise.all([api(`/api/identities/${id}`, { signal, query: { recent: 0 } }), api("/api/cameras", { signal })]);
  } catch (error) {
    if (error.status === 404 && error.message !== "Not Found") {
      replace(root, emptyState("Identity not found", "It may have been merged or deleted.", h("a", { class: "btn", href: "#/identities" }, "All identities")));
    } else {
      replace(root, isUnavailable(error) ? unavailableState("Identities", error) : errorState(error, rerender));
    }
    return;
  }
  const cameraName = (cid) => (cameras.find((c) => c.id === cid) || {}).name || `Camera ${cid}`;
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
      identity = await api(`/api/identities/${id}`, { method: "PUT", json: body });
      toast(`Saved ${identityName(identity)}.`, "success");
      title.textContent = identityName(identity);
    } catch (error) {
      toastError("Rename failed", error);
    }
  });

  const removeBtn = h("button", { class: "btn btn-danger-ghost", type: "button" }, "Delete identity");
  removeBtn.addEventListener("click", async () => {
    if (!(await confirmDialog({ title: `Delete ${identityName(identity)}?`, message: "Its sightings, face samples and crops are deleted, and clips nobody else appears in go too. This cannot be undone." }))) return;
    try {
      await api(`/api/identities/${id}`, { method: "DELETE" });
      toast("Identity deleted.", "success");
      location.hash = "#/identities";
    } catch (error) {
      toastError("Delete failed", error);
    }
  });

  const head = pageHeader(identityName(identity), "", h("a", { class: "btn btn-ghost", href: "#/identities" }, "← All identities"), removeBtn);
  const title = head.querySelector("h1");
  const facts = h("dl", { class: "meta" },
    h("dt", {}, "Class"), h("dd", {}, identity.object_class || "person"),
    h("dt", {}, "Sightings"), h("dd", {}, String(identity.num_sightings ?? "—")),
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
      const url = sightingThumbUrl(s);
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
      const result = await api(`/api/identities/${id}/split`, { method: "POST", json: body });
      toast(result && result.detail ? result.detail : "Split into a new identity.", "success");
      const other = result && (result.new_id || result.target_id);
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
      h("section", { class: "card" }, h("h2", { text: "Name and notes" }), renameForm)),
    h("section", { class: "card" }, h("h2", { text: "Sightings across cameras" }), timeline,
      h("div", { class: "toolbar" }, splitCount, splitBtn, autoBtn), sightingGrid),
    h("section", { class: "card" }, h("h2", { text: "Clips" }), clips),
    h("section", { class: "card" }, h("h2", { text: "Faces" }), faces));

  api(`/api/identities/${id}/sightings`, { signal, query: { limit: SIGHTINGS } })
    .then((payload) => { sightings = itemsOf(payload).items; renderSightings(); })
    .catch((error) => replace(timeline, errorState(error)));
  api(`/api/identities/${id}/events`, { signal })
    .then((payload) => {
      const { items } = itemsOf(payload);
      replace(clips, items.length ? items.map((event) => h("button", {
        class: "clip-chip", type: "button", disabled: !event.clip_url,
        onclick: () => playEvent(event, { cameraName: cameraName(event.camera_id) }),
      }, event.thumb_url ? mediaImg(event.thumb_url, { alt: "" }) : h("div", { class: "no-thumb", text: "▶" }),
      h("span", {}, `${cameraName(event.camera_id)} · ${when(event.ts)} · ${duration(event.duration)}`))) : emptyState("No clips", "No recording includes this identity."));
    })
    .catch((error) => replace(clips, errorState(error)));
  api(`/api/identities/${id}/faces`, { signal })
    .then((payload) => {
      const { items } = itemsOf(payload);
      replace(faces, items.length ? items.map((face) => {
        const url = face.thumb_url || face.image_url || face.url || `/api/face-groups/samples/${face.id}/thumbnail`;
        return h("figure", { class: "face" }, mediaImg(url, { alt: `Face ${face.id}` }), h("figcaption", { class: "small muted", text: when(face.ts || face.created_at) }));
      }) : emptyState("No faces", "No face was captured for this identity."));
    })
    .catch((error) => replace(faces, errorState(error)));
}
