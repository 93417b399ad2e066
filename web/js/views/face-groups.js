// Face groups: captured faces clustered on demand; enroll a group, label it, see its clips.

import { isServiceUnavailable } from "../api.js";
import { openDialog, promptDialog } from "../components/dialog.js";
import { addActions, debounce, emptyState, field, h, loadOrExplain, pageHeader, replace, spinner, unavailableState } from "../components/dom.js";
import { when } from "../components/format.js";
import { listPage } from "../components/list-page.js";
import { mediaImg } from "../components/media.js";
import { clipChip } from "../components/player.js";
import { cameraNamer } from "../components/status.js";
import { toast, toastError } from "../components/toast.js";
import { api } from "../endpoints.js";

/** The member sample ids of a group (the best `max_members` of it). */
const sampleIds = (group) => group.members.map((m) => m.id);

function slider(name, label, value, help) {
  const input = h("input", { class: "slider", type: "range", name, min: 0, max: 1, step: 0.01, value: String(value) });
  const out = h("output", { class: "slider-value", text: Number(value).toFixed(2) });
  input.addEventListener("input", () => { out.textContent = Number(input.value).toFixed(2); });
  return { input, el: field(label, h("div", { class: "with-slider" }, input, out), help) };
}

/** Ask for a text (`dialog`: promptDialog's options), then `action(text)` → the toast; reload. */
async function withText(dialog, action, failure, reload) {
  const text = await promptDialog(dialog);
  if (!text) return;
  try {
    toast(await action(text), "success");
    reload();
  } catch (error) {
    toastError(failure, error);
  }
}

export async function mount(root, ctx) {
  const { query, signal, rerender } = ctx;
  const threshold = slider("face_threshold", "Face similarity threshold", query.get("face_threshold") || 0.5, "Higher links only very similar faces.");
  const clothing = slider("clothing_weight", "Clothing weight", query.get("clothing_weight") || 0, "How much clothing similarity counts.");
  const minSize = h("input", { class: "input", type: "number", name: "min_size", min: 1, max: 1000, step: 1, value: query.get("min_size") || "2" });
  const controls = h("form", { class: "filters" }, threshold.el, clothing.el, field("Smallest group", minSize));
  const summary = h("p", { class: "muted" });
  const body = h("div", {}, spinner("Clustering faces…"));
  const header = pageHeader("Face groups", "Faces seen by the cameras, grouped by similarity. Turn a group into a known person.");
  replace(root, header, body);

  const cameras = await loadOrExplain(body, () => api.cameras.list({ signal }), { retry: rerender });
  if (!cameras) return;
  const cameraName = cameraNamer(cameras);
  const reload = () => list.load();

  async function showClips(group) {
    try {
      const { items } = await api.faceGroups.clips(sampleIds(group));
      openDialog({
        title: `Clips of ${group.label || `group ${group.group_id}`}`, submit: null, cancel: "Close", wide: true,
        body: items.length
          ? h("div", { class: "card-grid compact" }, items.map((event) => clipChip(event, cameraName(event.camera_id))))
          : emptyState("No clips", "No recording overlaps these faces."),
      });
    } catch (error) {
      toastError("Clips could not be loaded", error);
    }
  }
  const enroll = (group) => withText({ title: "Enroll as a person", label: "Name", value: group.label || "", confirm: "Enroll" },
    async (name) => {
      const result = await api.faceGroups.enroll(sampleIds(group), name);
      return `Enrolled ${result.name} with ${result.enrolled_faces} faces.`;
    }, "Enrollment failed", reload);
  const label = (group) => withText({ title: "Label this group", label: "Label", value: group.label || "", confirm: "Apply label" },
    async (text) => {
      const result = await api.faceGroups.label(sampleIds(group), text);
      return `Labelled ${result.updated} faces “${text}”.`;
    }, "Labelling failed", reload);

  function groupCard(group) {
    return h("article", { class: "group-card card", dataset: { group: group.group_id } },
      h("div", { class: "group-head" }, mediaImg(group.rep_thumb_url, { alt: "", className: "group-rep" }),
        h("div", {},
          h("div", { class: "strong", text: group.label || `Unlabelled group ${group.group_id}` }),
          h("div", { class: "small muted" }, `${group.size} faces · ${group.cameras.map(cameraName).join(", ") || "—"}`),
          h("div", { class: "small muted" }, `${when(group.first_seen)} → ${when(group.last_seen)}`)),
        h("div", { class: "group-actions" },
          h("button", { class: "btn btn-small btn-primary admin-only", type: "button", onclick: () => enroll(group) }, "Enroll as person"),
          h("button", { class: "btn btn-small admin-only", type: "button", onclick: () => label(group) }, "Label"),
          h("button", { class: "btn btn-small", type: "button", onclick: () => showClips(group) }, "Clips"))),
      h("div", { class: "member-strip" }, group.members.map((m) => mediaImg(m.thumb_url, { alt: "", className: "member" }))));
  }

  // The clustering settings are the filters; a change re-clusters (debounced: sliders).
  const settings = {};
  const readSettings = () => Object.assign(settings, { face_threshold: threshold.input.value, clothing_weight: clothing.input.value, min_size: minSize.value });
  readSettings();
  const list = listPage(ctx, {
    noun: { one: "captured face", many: "captured faces" },
    loading: "Clustering faces…",
    gridClass: "group-list",
    before: [controls, summary],
    key: (group) => group.group_id,
    filters: settings,
    async fetchPage(params, opts) {
      const payload = await api.faceGroups.list(params, opts);
      summary.textContent = `${payload.total_groups} groups from ${payload.total_samples} captured faces.`;
      return { items: payload.groups, total: payload.total_groups };
    },
    card: groupCard,
    empty: { title: "No face groups", body: "Faces appear here once cameras with face recognition capture some." },
    narrowed: () => false, // settings always have values; they group, they do not filter
    failed: (error) => (isServiceUnavailable(error) ? unavailableState("Face groups", error) : null),
    clearAll: {
      confirm: () => ({
        title: "Delete all captured faces?",
        message: "Every face the cameras captured is deleted with its crop, so every group goes. Enrolled people keep their faces. This cannot be undone.",
      }),
      run: () => api.faceGroups.clearAllSamples(),
    },
  });
  const apply = () => { readSettings(); list.reset(); };
  controls.addEventListener("change", debounce(apply, 250));
  controls.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
  addActions(header, list.clearButton);
  replace(body, list.el);
  await list.load();
}
