// Face groups: captured faces clustered on demand; enroll a group, label it, see its clips.

import { api, isUnavailable, itemsOf, offers } from "../api.js";
import { openDialog, promptDialog } from "../components/dialog.js";
import { debounce, emptyState, errorState, field, h, pageHeader, replace, spinner, unavailableState } from "../components/dom.js";
import { duration, when } from "../components/format.js";
import { mediaImg } from "../components/media.js";
import { playEvent } from "../components/player.js";
import { toast, toastError } from "../components/toast.js";

/** Member sample ids of a group, whichever shape the API gives them in. */
function sampleIds(group) {
  if (Array.isArray(group.sample_ids)) return group.sample_ids;
  if (Array.isArray(group.member_ids)) return group.member_ids;
  return (group.members || []).map((m) => (typeof m === "object" ? m.id ?? m.sample_id : m)).filter((x) => x !== undefined);
}

function memberThumb(member) {
  if (member && typeof member === "object") return member.thumb_url || `/api/face-groups/samples/${member.id ?? member.sample_id}/thumbnail`;
  return `/api/face-groups/samples/${member}/thumbnail`;
}

function slider(name, label, value, help) {
  const input = h("input", { class: "slider", type: "range", name, min: 0, max: 1, step: 0.01, value: String(value) });
  const out = h("output", { class: "slider-value", text: Number(value).toFixed(2) });
  input.addEventListener("input", () => { out.textContent = Number(input.value).toFixed(2); });
  return { input, el: field(label, h("div", { class: "with-slider" }, input, out), help) };
}

export async function mount(root, { query, signal, setQuery, rerender }) {
  const threshold = slider("face_threshold", "Face similarity threshold", query.get("face_threshold") || 0.5, "Higher links only very similar faces.");
  const clothing = slider("clothing_weight", "Clothing weight", query.get("clothing_weight") || 0, "How much clothing similarity counts.");
  const minSize = h("input", { class: "input", type: "number", name: "min_size", min: 1, max: 1000, step: 1, value: query.get("min_size") || "2" });
  const controls = h("form", { class: "filters" }, threshold.el, clothing.el, field("Smallest group", minSize));
  const summary = h("p", { class: "muted" });
  const groups = h("div", { class: "group-list" }, spinner("Clustering faces…"));
  replace(root, pageHeader("Face groups", "Faces seen by the cameras, grouped by similarity. Turn a group into a known person."), controls, summary, groups);

  if (!(await offers("/api/face-groups"))) {
    replace(groups, unavailableState("Face groups"));
    controls.hidden = true;
    return;
  }
  let cameras = [];
  try {
    cameras = await api("/api/cameras", { signal });
  } catch (error) {
    replace(groups, errorState(error, rerender));
    return;
  }
  const cameraName = (id) => (typeof id === "object" ? id.name : (cameras.find((c) => c.id === id) || {}).name) || `Camera ${id}`;

  async function showClips(group) {
    try {
      const { items } = itemsOf(await api("/api/face-groups/clips", { method: "POST", json: { sample_ids: sampleIds(group) } }));
      openDialog({
        title: `Clips of ${group.label || `group ${group.group_id}`}`, submit: null, cancel: "Close", wide: true,
        body: items.length ? h("div", { class: "card-grid compact" }, items.map((event) => h("button", {
          class: "clip-chip", type: "button", disabled: !event.clip_url,
          onclick: () => playEvent(event, { cameraName: cameraName(event.camera_id) }),
        }, event.thumb_url ? mediaImg(event.thumb_url, { alt: "" }) : h("div", { class: "no-thumb", text: "▶" }),
        h("span", {}, `${cameraName(event.camera_id)} · ${when(event.ts)} · ${duration(event.duration)}`)))) : emptyState("No clips", "No recording overlaps these faces."),
      });
    } catch (error) {
      toastError("Clips could not be loaded", error);
    }
  }
  async function enroll(group) {
    const name = await promptDialog({ title: "Enroll as a person", label: "Name", value: group.label || "", confirm: "Enroll" });
    if (!name) return;
    try {
      const result = await api("/api/face-groups/enroll", { method: "POST", json: { sample_ids: sampleIds(group), name } });
      toast(`Enrolled ${result.name || name} with ${result.enrolled_faces ?? "their"} faces.`, "success");
      load();
    } catch (error) {
      toastError("Enrollment failed", error);
    }
  }
  async function label(group) {
    const text = await promptDialog({ title: "Label this group", label: "Label", value: group.label || "", confirm: "Apply label" });
    if (!text) return;
    try {
      const result = await api("/api/face-groups/label", { method: "POST", json: { sample_ids: sampleIds(group), label: text } });
      toast(`Labelled ${result.updated ?? ""} faces “${text}”.`, "success");
      load();
    } catch (error) {
      toastError("Labelling failed", error);
    }
  }

  function groupCard(group) {
    const members = group.members || group.member_thumbs || sampleIds(group);
    const rep = group.rep_thumb_url || group.thumb_url || `/api/face-groups/samples/${group.group_id}/thumbnail`;
    return h("article", { class: "group-card card", dataset: { group: group.group_id } },
      h("div", { class: "group-head" }, mediaImg(rep, { alt: "", className: "group-rep" }),
        h("div", {},
          h("div", { class: "strong", text: group.label || `Unlabelled group ${group.group_id}` }),
          h("div", { class: "small muted" }, `${group.size ?? members.length} faces · ${(group.cameras || []).map(cameraName).join(", ") || "—"}`),
          h("div", { class: "small muted" }, `${when(group.first_seen)} → ${when(group.last_seen)}`)),
        h("div", { class: "group-actions" },
          h("button", { class: "btn btn-small btn-primary", type: "button", onclick: () => enroll(group) }, "Enroll as person"),
          h("button", { class: "btn btn-small", type: "button", onclick: () => label(group) }, "Label"),
          h("button", { class: "btn btn-small", type: "button", onclick: () => showClips(group) }, "Clips"))),
      h("div", { class: "member-strip" }, members.map((m) => mediaImg(typeof m === "string" ? m : memberThumb(m), { alt: "", className: "member" }))));
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const params = { face_threshold: threshold.input.value, clothing_weight: clothing.input.value, min_size: minSize.value };
    setQuery(params);
    groups.setAttribute("aria-busy", "true");
    try {
      const payload = await api("/api/face-groups", { signal, query: params });
      if (mine !== seq) return;
      const list = payload.groups || [];
      summary.textContent = `${payload.total_groups ?? list.length} groups from ${payload.total_samples ?? "?"} captured faces.`;
      replace(groups, list.length ? list.map(groupCard) : emptyState("No face groups", "Faces appear here once cameras with face recognition capture some."));
    } catch (error) {
      if (error.name === "AbortError") return;
      replace(groups, isUnavailable(error) ? unavailableState("Face groups", error) : errorState(error, load));
    } finally {
      groups.removeAttribute("aria-busy");
    }
  }
  controls.addEventListener("change", debounce(load, 250));
  controls.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  await load();
}
