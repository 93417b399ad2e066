// The zone and mask editor of the camera form. The camera's snapshot is the background: click
// to add points, click the first point (or Finish) to close the polygon, drag points (or move a
// focused point with the arrow keys), drag an edge's middle to add one. Masks are where motion
// is ignored; zones are where objects count, with a name, the labels they care about, whether
// an event needs them (required) and a loiter time. The editor's answer is the camera API's
// motion_masks, zones and required_zones; the form saves them with the rest.

import { api } from "../endpoints.js";
import { field, h, replace, svg } from "./dom.js";
import { mediaImg } from "./media.js";
import { shapeCanvas, shapesOf, zoneColor } from "./zone-overlay.js";

const MIN_POINTS = 3;
const MAX_POINTS = 64;
const MAX_SHAPES = 32; // of each kind (the camera API's limit)
const NAME_PATTERN = "[A-Za-z0-9 _\\-]+"; // the API's, so the form refuses a name before sending it
const STEP = 0.01; // arrow keys move a point by 1 % of the picture, 5 % with Shift
const BIG_STEP = 0.05;
const HANDLE_PX = { fine: 7, coarse: 13 };
const DRAW_HINT = "Click on the picture to add points; click the first point or Finish to close the shape. "
  + "With the keyboard: arrow keys move the cursor, Enter adds a point, Backspace removes the last, Esc cancels.";
const EDIT_HINT = "Drag a point to move it, drag an edge's middle to add one. A focused point moves with the arrow keys; Delete removes it.";

const copyPolygon = (polygon) => (polygon || []).map(([x, y]) => [Number(x), Number(y)]);
const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

/**
 * The editor for one camera; `labels` are the labels a zone may be limited to (the camera's
 * trigger classes). Returns {el, value() → {motion_masks, zones, required_zones} (throws an
 * Error naming the problem), showError(error): marks the shape a 422 names}.
 */
export function zoneEditor(camera, { labels = [] } = {}) {
  const required = new Set(camera.required_zones || []);
  const state = {
    masks: (camera.motion_masks || []).map(copyPolygon),
    zones: (camera.zones || []).map((zone) => ({
      name: zone.name, polygon: copyPolygon(zone.polygon), labels: zone.labels ? [...zone.labels] : null,
      loiter_seconds: zone.loiter_seconds ?? null, required: required.has(zone.name),
    })),
    selected: null, // {kind, index}: the shape whose points show
    draft: null, // {kind, points, cursor}: the shape being drawn
  };
  let drag = null;
  let swallowClick = false;

  const canvas = shapeCanvas({ className: "zone-editor-svg", label: `Zones and masks of ${camera.name}`, onResize: () => redraw() });
  canvas.el.setAttribute("tabindex", "0");
  const stage = h("div", { class: "zone-stage" }, picture(), canvas.el);
  const hint = h("p", { class: "muted small zone-hint", "aria-live": "polite" });
  const addZone = h("button", { class: "btn btn-small", type: "button", onclick: () => startDraft("zone") }, "+ Add zone");
  const addMask = h("button", { class: "btn btn-small", type: "button", onclick: () => startDraft("mask") }, "+ Add mask");
  const finish = h("button", { class: "btn btn-small btn-primary", type: "button", hidden: true, onclick: () => finishDraft() }, "Finish shape");
  const cancel = h("button", { class: "btn btn-small btn-ghost", type: "button", hidden: true, onclick: () => cancelDraft() }, "Cancel shape");
  const refresh = h("button", { class: "btn btn-small btn-ghost", type: "button", disabled: !camera.enabled, onclick: () => stage.firstChild.replaceWith(picture()) }, "New picture");
  const list = h("ol", { class: "zone-list", "aria-label": "Zones and masks" });
  const el = h("div", { class: "zone-editor" },
    h("div", { class: "toolbar zone-tools" }, addZone, addMask, finish, cancel, refresh),
    stage, hint, list);

  function picture() {
    if (!camera.enabled) return h("div", { class: "zone-picture no-thumb", text: "Camera disabled: no picture to draw on" });
    const img = mediaImg(api.live.snapshotUrl(camera.id, { t: Date.now() }), { alt: "", className: "zone-picture", lazy: false });
    img.addEventListener("load", () => {
      canvas.setSize(img.naturalWidth, img.naturalHeight);
      stage.style.setProperty("aspect-ratio", `${img.naturalWidth} / ${img.naturalHeight}`);
      redraw();
    });
    return img;
  }

  // ---- the model
  const polygonOf = ({ kind, index }) => (kind === "mask" ? state.masks[index] : state.zones[index].polygon);
  const shapes = () => shapesOf({ motion_masks: state.masks, zones: state.zones });
  const nameOf = ({ kind, index }) => (kind === "mask" ? `Mask ${index + 1}` : state.zones[index].name || `Zone ${index + 1}`);

  function freshZoneName() {
    const taken = new Set(state.zones.map((z) => z.name));
    let n = state.zones.length + 1;
    while (taken.has(`Zone ${n}`)) n += 1;
    return `Zone ${n}`;
  }

  function select(which) {
    state.selected = which;
    hint.textContent = which ? EDIT_HINT : "";
    relist();
    redraw();
  }

  function startDraft(kind) {
    state.draft = { kind, points: [], cursor: null };
    state.selected = null;
    hint.textContent = DRAW_HINT;
    tools();
    relist();
    redraw();
    canvas.el.focus({ preventScroll: true });
    stage.scrollIntoView({ block: "nearest" }); // the whole picture in view to click on
  }

  function addPoint(point) {
    const { points } = state.draft;
    if (points.length >= MAX_POINTS) {
      hint.textContent = `A shape has at most ${MAX_POINTS} points: finish it.`;
      return;
    }
    points.push(point);
    hint.textContent = points.length >= MIN_POINTS ? `${points.length} points. Click the first point or Finish to close the shape.` : DRAW_HINT;
    tools();
    redraw();
  }

  function finishDraft() {
    const { kind, points } = state.draft;
    if (points.length < MIN_POINTS) {
      hint.textContent = `A shape needs at least ${MIN_POINTS} points (${points.length} so far).`;
      return false;
    }
    if (kind === "mask") state.masks.push(points);
    else state.zones.push({ name: freshZoneName(), polygon: points, labels: null, loiter_seconds: null, required: false });
    state.draft = null;
    tools();
    select({ kind, index: (kind === "mask" ? state.masks : state.zones).length - 1 });
    const name = list.querySelector(".shape-row.selected input[name='zone-name']");
    if (name) name.focus();
    return true;
  }

  function cancelDraft() {
    state.draft = null;
    hint.textContent = "";
    tools();
    redraw();
  }

  function removeShape({ kind, index }) {
    if (kind === "mask") state.masks.splice(index, 1);
    else state.zones.splice(index, 1);
    tools();
    select(null);
  }

  function movePoint(index, point) {
    polygonOf(state.selected)[index] = point;
    redraw();
  }

  // ---- drawing
  function tools() {
    const drawing = Boolean(state.draft);
    finish.hidden = !drawing;
    cancel.hidden = !drawing;
    finish.disabled = drawing && state.draft.points.length < MIN_POINTS;
    addZone.disabled = drawing || state.zones.length >= MAX_SHAPES;
    addMask.disabled = drawing || state.masks.length >= MAX_SHAPES;
    stage.classList.toggle("drawing", drawing);
  }

  function redraw() {
    canvas.draw(shapes(), { selected: state.selected });
    const px = canvas.unitsPerPx();
    const r = (matchMedia("(pointer: coarse)").matches ? HANDLE_PX.coarse : HANDLE_PX.fine) * px;
    const { size } = canvas;
    const at = ([x, y]) => ({ cx: x * size.width, cy: y * size.height });
    const line = (points) => points.map(([x, y]) => `${x * size.width},${y * size.height}`).join(" ");
    const focused = document.activeElement && canvas.layer.contains(document.activeElement) ? document.activeElement.dataset.handle : null;
    const nodes = [];
    if (state.draft) {
      const { kind, points, cursor } = state.draft;
      const path = cursor ? [...points, cursor] : points;
      if (path.length > 1) nodes.push(svg("polyline", { class: `draft-line draft-${kind}`, points: line(path) }));
      points.forEach((point, i) => nodes.push(svg("circle", {
        class: i === 0 && points.length >= MIN_POINTS ? "handle handle-close" : "handle", r, ...at(point), "data-draft": i,
      }, svg("title", {}, i === 0 && points.length >= MIN_POINTS ? "Close the shape" : `Point ${i + 1}`))));
      if (cursor) nodes.push(svg("circle", { class: "draw-cursor", r: r * 1.4, ...at(cursor) }));
    } else if (state.selected) {
      const polygon = polygonOf(state.selected);
      const name = nameOf(state.selected);
      if (polygon.length < MAX_POINTS) {
        polygon.forEach((point, i) => {
          const next = polygon[(i + 1) % polygon.length];
          nodes.push(svg("circle", { class: "handle handle-mid", r: r * 0.7, ...at([(point[0] + next[0]) / 2, (point[1] + next[1]) / 2]), "data-mid": i },
            svg("title", {}, "Drag to add a point")));
        });
      }
      polygon.forEach((point, i) => nodes.push(svg("circle", {
        class: "handle", r, ...at(point), tabindex: 0, "data-handle": i,
        "aria-label": `Point ${i + 1} of ${polygon.length} of ${name}: arrow keys move it, Delete removes it`,
      })));
    }
    canvas.layer.replaceChildren(...nodes);
    if (focused !== null && focused !== undefined) {
      const again = canvas.layer.querySelector(`[data-handle="${focused}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  // ---- pointer: add points, select, drag
  canvas.el.addEventListener("pointerdown", (event) => {
    swallowClick = false;
    if (event.button !== 0 || state.draft || !state.selected) return;
    const { handle, mid } = event.target.dataset || {};
    if (handle === undefined && mid === undefined) return;
    event.preventDefault();
    let index = Number(handle);
    if (mid !== undefined) {
      index = Number(mid) + 1;
      polygonOf(state.selected).splice(index, 0, canvas.toUnit(event));
    }
    drag = { index, pointerId: event.pointerId };
    canvas.el.setPointerCapture(event.pointerId);
    redraw();
  });
  canvas.el.addEventListener("pointermove", (event) => {
    if (drag && event.pointerId === drag.pointerId) movePoint(drag.index, canvas.toUnit(event));
  });
  const endDrag = (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    drag = null;
    swallowClick = true; // the click that ends a drag selects nothing
    if (canvas.el.hasPointerCapture(event.pointerId)) canvas.el.releasePointerCapture(event.pointerId);
    relist();
  };
  canvas.el.addEventListener("pointerup", endDrag);
  canvas.el.addEventListener("pointercancel", endDrag);
  canvas.el.addEventListener("click", (event) => {
    if (swallowClick) {
      swallowClick = false;
      return;
    }
    const target = event.target;
    if (state.draft) {
      if (target.dataset && target.dataset.draft === "0" && state.draft.points.length >= MIN_POINTS) finishDraft();
      else if (!(target.dataset && target.dataset.draft !== undefined)) addPoint(canvas.toUnit(event));
      return;
    }
    const shape = target.closest && target.closest("polygon[data-kind]");
    if (shape) select({ kind: shape.dataset.kind, index: Number(shape.dataset.index) });
    else if (!target.closest("[data-handle], [data-mid]")) select(null);
  });

  // ---- keyboard: a drawing cursor on the picture, and focused points
  canvas.el.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? BIG_STEP : STEP;
    const delta = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
    const handle = event.target.dataset ? event.target.dataset.handle : undefined;
    if (state.draft) {
      const draft = state.draft;
      if (delta) {
        const [x, y] = draft.cursor || draft.points[draft.points.length - 1] || [0.5, 0.5];
        draft.cursor = [clamp(x + delta[0]), clamp(y + delta[1])];
        redraw();
      } else if (event.key === "Enter" || event.key === " ") {
        addPoint(draft.cursor || [0.5, 0.5]);
      } else if (event.key === "Backspace") {
        draft.points.pop();
        tools();
        redraw();
      } else if (event.key === "Escape") {
        cancelDraft();
      } else {
        return;
      }
    } else if (handle !== undefined) {
      const polygon = polygonOf(state.selected);
      const index = Number(handle);
      if (delta) {
        movePoint(index, [clamp(polygon[index][0] + delta[0]), clamp(polygon[index][1] + delta[1])]);
      } else if ((event.key === "Delete" || event.key === "Backspace") && polygon.length > MIN_POINTS) {
        polygon.splice(index, 1);
        redraw();
        const next = canvas.layer.querySelector(`[data-handle="${Math.min(index, polygon.length - 1)}"]`);
        if (next) next.focus();
        relist();
      } else if (event.key === "Escape") {
        select(null);
        canvas.el.focus();
      } else {
        return;
      }
    } else {
      return;
    }
    event.preventDefault(); // the page does not scroll, and Enter does not submit the form
    event.stopPropagation();
  });

  // ---- the list beside the picture: names, labels, required, loiter, delete
  function row(shape) {
    const which = { kind: shape.kind, index: shape.index };
    const isSelected = state.selected && state.selected.kind === shape.kind && state.selected.index === shape.index;
    const name = nameOf(which);
    const edit = h("button", { class: "btn btn-small", type: "button", "aria-pressed": String(Boolean(isSelected)), "aria-label": `Edit the points of ${name}`,
      onclick: () => select(isSelected ? null : which) }, isSelected ? "Done" : "Edit points");
    const remove = h("button", { class: "btn btn-small btn-danger-ghost", type: "button", "aria-label": `Delete ${name}`, onclick: () => removeShape(which) }, "Delete");
    const actions = h("div", { class: "shape-row-actions" }, edit, remove);
    const attrs = { class: ["shape-row", `${shape.kind}-row`, isSelected ? "selected" : ""], dataset: { kind: shape.kind, index: shape.index } };
    const points = h("span", { class: "muted small", text: `${shape.polygon.length} points` });
    if (shape.kind === "mask") {
      return h("li", attrs, h("div", { class: "shape-row-head" }, h("span", { class: "zone-swatch mask-swatch", "aria-hidden": "true" }),
        h("strong", { text: name }), h("span", { class: "muted small", text: "motion is ignored here" }), points), actions);
    }
    const zone = state.zones[shape.index];
    const swatch = h("span", { class: "zone-swatch", "aria-hidden": "true" });
    swatch.style.setProperty("--zone-color", zoneColor(zone.name));
    const nameInput = h("input", { class: "input input-small", type: "text", name: "zone-name", value: zone.name, required: true, maxlength: 32,
      pattern: NAME_PATTERN, title: "Letters, digits, spaces, - and _ (up to 32)", "aria-label": "Zone name" });
    nameInput.addEventListener("input", () => {
      zone.name = nameInput.value.trim();
      swatch.style.setProperty("--zone-color", zoneColor(zone.name));
      redraw();
    });
    const options = [...new Set([...labels, ...(zone.labels || [])])];
    const chips = h("div", { class: "chips", role: "group", "aria-label": `Labels that count in ${name}` }, options.map((label) =>
      h("label", { class: "chip chip-toggle" }, h("input", { type: "checkbox", class: "chip-box", value: label, checked: (zone.labels || []).includes(label) }), h("span", { text: label }))));
    chips.addEventListener("change", () => {
      const picked = [...chips.querySelectorAll("input:checked")].map((box) => box.value);
      zone.labels = picked.length ? picked : null;
    });
    const mustBox = h("input", { type: "checkbox", checked: zone.required, onchange: () => { zone.required = mustBox.checked; redraw(); } });
    const loiter = h("input", { class: "input input-small", type: "number", min: 0, max: 3600, step: 1, value: zone.loiter_seconds ?? "", placeholder: "none", inputmode: "numeric" });
    loiter.addEventListener("input", () => { zone.loiter_seconds = loiter.value === "" ? null : Number(loiter.value); });
    return h("li", attrs,
      h("div", { class: "shape-row-head" }, swatch, nameInput, points),
      h("div", { class: "shape-row-fields" },
        field("Labels", chips, options.length ? "None ticked: every trigger label counts." : "Every trigger label counts."),
        h("label", { class: "check" }, mustBox, h("span", { text: "Required: events need an object here" })),
        field("Loiter (s)", loiter, "Counts once an object stays this long.")),
      actions);
  }

  function relist() {
    const all = shapes();
    replace(list, all.length ? all.map(row) : h("li", { class: "muted small zone-empty", text: "No zones or masks yet: add one and click on the picture." }));
  }

  relist();
  tools();
  redraw();

  return {
    el,
    value() {
      if (state.draft && state.draft.points.length && !finishDraft()) {
        throw new Error(`Finish or cancel the ${state.draft.kind} being drawn: it needs at least ${MIN_POINTS} points.`);
      }
      if (state.draft) cancelDraft();
      const names = state.zones.map((zone) => zone.name.trim());
      const blank = names.findIndex((name) => !name);
      if (blank >= 0) throw new Error(`Zone ${blank + 1} needs a name.`);
      const folded = names.map((name) => name.toLowerCase());
      const twice = names.find((name, i) => folded.indexOf(name.toLowerCase()) !== i);
      if (twice) throw new Error(`Two zones are named “${twice}”: zone names must differ.`);
      return {
        motion_masks: state.masks.map(copyPolygon),
        zones: state.zones.map((zone, i) => ({
          name: names[i], polygon: copyPolygon(zone.polygon), labels: zone.labels, loiter_seconds: zone.loiter_seconds,
        })),
        required_zones: state.zones.filter((zone) => zone.required).map((zone) => zone.name.trim()),
      };
    },
    /** Mark the rows a refused save names ("zones.1.name: …", "motion_masks.0: …"). */
    showError(error) {
      for (const invalid of list.querySelectorAll(".shape-row.invalid")) invalid.classList.remove("invalid");
      const text = error && error.message ? error.message : "";
      for (const [, key, index] of text.matchAll(/\b(motion_masks|zones)[.[](\d+)/g)) {
        const kind = key === "zones" ? "zone" : "mask";
        const hit = list.querySelector(`.shape-row[data-kind="${kind}"][data-index="${index}"]`);
        if (hit) hit.classList.add("invalid");
      }
    },
  };
}
