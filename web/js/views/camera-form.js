// Add or edit a camera (#/cameras/new, #/cameras/<id>): every tuning field of the contract.

import { confirmDialog } from "../components/dialog.js";
import { backLink, emptyState, field, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { toast, toastError } from "../components/toast.js";
import { zoneEditor } from "../components/zone-editor.js";
import { api } from "../endpoints.js";

/** The contract's tuning fields with their ranges and create defaults. */
const TUNING = [
  { group: "Detection", name: "detect_conf", label: "Confidence threshold", kind: "float", min: 0, max: 1, step: 0.01, value: 0.5, slider: true, help: "Detections below this score are ignored." },
  { group: "Detection", name: "detect_iou", label: "NMS IoU", kind: "float", min: 0, max: 1, step: 0.01, value: 0.45, slider: true, help: "Overlap above which boxes merge." },
  { group: "Detection", name: "detect_imgsz", label: "Detector input size (px)", kind: "int", min: 128, max: 1920, step: 32, value: 320, help: "Larger finds smaller objects, at more cost." },
  { group: "Detection", name: "detect_interval", label: "Seconds between detections", kind: "float", min: 0, max: 60, step: 0.1, value: 0.2, help: "0 runs the detector on every frame." },
  { group: "Triggering", name: "min_trigger_frames", label: "Frames before a trigger", kind: "int", min: 1, max: 100, step: 1, value: 3, help: "Consecutive detection frames that start an event." },
  { group: "Triggering", name: "trigger_cooldown", label: "Cooldown (s)", kind: "float", min: 0, max: 3600, step: 0.5, value: 5, help: "Minimum time between two events." },
  { group: "Recording", name: "pre_seconds", label: "Pre-roll (s)", kind: "int", min: 0, max: 120, step: 1, value: 5, help: "Kept before the trigger." },
  { group: "Recording", name: "post_seconds", label: "Post-roll (s)", kind: "int", min: 0, max: 300, step: 1, value: 10, help: "Kept after the subject leaves." },
];
const SWITCHES = [
  { name: "enabled", label: "Enabled", help: "Connect, stream and record.", value: true },
  { name: "faces_enabled", label: "Face recognition", help: "Match faces against enrolled people.", value: true },
  { name: "reid_enabled", label: "Cross-camera re-ID", help: "Follow identities across cameras.", value: true },
];
const MASK = "***";

function numberControl(spec, value) {
  const number = h("input", {
    class: "input", type: "number", name: spec.name, id: `f-${spec.name}`, min: spec.min, max: spec.max, step: spec.step,
    value: String(value ?? spec.value), required: true, inputmode: spec.kind === "int" ? "numeric" : "decimal",
  });
  if (!spec.slider) return number;
  const slider = h("input", { class: "slider", type: "range", min: spec.min, max: spec.max, step: spec.step, value: String(value ?? spec.value), "aria-label": spec.label, tabindex: -1 });
  slider.addEventListener("input", () => { number.value = slider.value; });
  number.addEventListener("input", () => { slider.value = number.value; });
  return h("div", { class: "with-slider" }, slider, number);
}

function classPicker(classes, selected) {
  const chosen = new Set(selected);
  const summary = h("span", { class: "muted small" });
  const filter = h("input", { class: "input input-small", type: "search", placeholder: "Filter classes…", "aria-label": "Filter classes" });
  const boxes = classes.map((name) => {
    const box = h("input", { type: "checkbox", value: name, checked: chosen.has(name), class: "chip-box" });
    return h("label", { class: "chip chip-toggle", dataset: { cls: name } }, box, h("span", { text: name }));
  });
  const list = h("div", { class: "chips chip-list", role: "group", "aria-label": "Trigger classes" }, boxes);
  const update = () => {
    const picked = boxes.map((label) => label.firstChild).filter((box) => box.checked).map((box) => box.value);
    summary.textContent = picked.length ? `Selected: ${picked.join(", ")}` : "None selected: person triggers.";
  };
  list.addEventListener("change", update);
  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const label of boxes) label.hidden = Boolean(q) && !label.dataset.cls.includes(q);
  });
  update();
  return {
    el: h("div", { class: "class-picker" }, h("div", { class: "row" }, filter, summary), list),
    value: () => boxes.map((label) => label.firstChild).filter((box) => box.checked).map((box) => box.value).join(","),
  };
}

function readForm(form, picker) {
  const data = new FormData(form);
  const body = {
    name: String(data.get("name") || "").trim(),
    rtsp_url: String(data.get("rtsp_url") || "").trim(),
    rtsp_transport: data.get("rtsp_transport"),
    trigger_classes: picker.value(),
  };
  for (const spec of TUNING) {
    const raw = data.get(spec.name);
    body[spec.name] = spec.kind === "int" ? parseInt(raw, 10) : parseFloat(raw);
  }
  for (const spec of SWITCHES) body[spec.name] = form.elements[spec.name].checked;
  return body;
}

export async function mount(root, { arg, signal, rerender }) {
  const isNew = arg === "new";
  replace(root, spinner(isNew ? "Preparing the form…" : "Loading camera…"));
  const loaded = await loadOrExplain(root, () => Promise.all([
    isNew ? null : api.cameras.get(Number(arg), { signal }),
    api.cameras.detectClasses({ signal }),
  ]), { retry: rerender, notFound: () => emptyState("Camera not found", "It may have been deleted.", backLink("#/cameras", "All cameras")) });
  if (!loaded) return;
  const [camera, detect] = loaded;

  const current = camera || {};
  const selected = camera ? (camera.trigger_classes || "").split(",").filter(Boolean) : detect.default || ["person"];
  const classes = [...new Set([...(detect.classes || []), ...selected])];
  const picker = classPicker(classes, selected);
  const zones = camera ? zoneEditor(camera, { labels: selected }) : null;
  const formError = h("p", { class: "form-error", role: "alert", hidden: true });
  const urlInput = h("input", {
    class: "input mono", type: "text", name: "rtsp_url", required: isNew, value: current.rtsp_url || "",
    placeholder: "rtsp://user:password@192.168.1.20:554/stream1", autocomplete: "off", spellcheck: "false", maxlength: 2048,
  });
  const urlHelp = !isNew && String(current.rtsp_url || "").includes(MASK)
    ? "Credentials are hidden: keep *** to keep the stored ones, or type a full new URL."
    : "RTSP, RTSPS, RTMP, HTTP(S) or file URL.";
  const saveBtn = h("button", { class: "btn btn-primary", type: "submit" }, isNew ? "Add camera" : "Save changes");

  const groups = {};
  for (const spec of TUNING) {
    (groups[spec.group] ||= []).push(field(spec.label, numberControl(spec, current[spec.name]), spec.help));
  }
  const form = h("form", { class: "form camera-form", novalidate: false },
    h("section", { class: "card" }, h("h2", { text: "Source" }),
      h("div", { class: "form-grid" },
        field("Name", h("input", { class: "input", type: "text", name: "name", required: true, maxlength: 100, value: current.name || "", autofocus: true, placeholder: "Front door" })),
        field("Transport", h("select", { class: "input", name: "rtsp_transport", value: current.rtsp_transport || "tcp" },
          h("option", { value: "tcp" }, "TCP (reliable)"), h("option", { value: "udp" }, "UDP (lower latency)")))),
      field("Stream URL", urlInput, urlHelp),
      h("div", { class: "switches" }, SWITCHES.map((spec) => h("label", { class: "switch" },
        h("input", { type: "checkbox", name: spec.name, checked: current[spec.name] ?? spec.value }),
        h("span", { class: "switch-text" }, h("strong", { text: spec.label }), h("span", { class: "muted small", text: spec.help })))))),
    h("section", { class: "card" }, h("h2", { text: "Trigger classes" }),
      detect.available === false
        ? h("p", { class: "notice" }, `The detector is unavailable${detect.reason ? ` (${detect.reason})` : ""}: cameras trigger on motion until it is back.`)
        : h("p", { class: "muted small", text: "Objects that start a recording. Stored as a comma-separated list." }),
      picker.el),
    h("section", { class: "card zones-card" }, h("h2", { text: "Zones and masks" }),
      h("p", { class: "muted small", text: zones
        ? "Masks hide swaying trees or a busy road from motion detection. Zones say where objects count; a required zone must be entered before an event starts."
        : "Add the camera first: then draw zones and masks on its picture here." }),
      zones ? zones.el : null),
    Object.entries(groups).map(([name, fields]) => h("section", { class: "card" }, h("h2", { text: name }), h("div", { class: "form-grid" }, fields))),
    formError,
    h("div", { class: "form-actions" }, h("a", { class: "btn btn-ghost", href: "#/cameras" }, "Cancel"), saveBtn));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    formError.hidden = true;
    let body;
    try {
      body = { ...readForm(form, picker), ...(zones ? zones.value() : {}) };
    } catch (error) { // a shape still being drawn, a zone without a name
      formError.textContent = error.message;
      formError.hidden = false;
      return;
    }
    const repointed = !isNew && body.rtsp_url && !body.rtsp_url.includes(MASK) && body.rtsp_url !== current.rtsp_url;
    if (repointed && !(await confirmDialog({
      title: "Point this camera somewhere else?",
      message: "A new stream URL is treated as a different camera: its recorded events and clips are deleted.",
      confirm: "Change URL",
    }))) return;
    saveBtn.disabled = true;
    try {
      const saved = isNew
        ? await api.cameras.create(body)
        : await api.cameras.update(current.id, body);
      toast(isNew ? `Added ${saved.name}.` : `Saved ${saved.name}.`, "success");
      location.hash = "#/cameras";
    } catch (error) {
      formError.textContent = error.message;
      formError.hidden = false;
      if (zones) zones.showError(error);
      toastError(isNew ? "The camera could not be added" : "The camera could not be saved", error);
    } finally {
      saveBtn.disabled = false;
    }
  });

  replace(root, pageHeader(isNew ? "Add camera" : `Edit ${current.name}`,
    isNew ? "Point Iris at a stream; it starts recording right away." : "Changes restart the camera's worker."), form);
}
