// A camera's zones and motion masks drawn over its picture: in the live view (zoneOverlay) and
// under the zone editor's handles (shapeCanvas). Points are normalised 0–1, as the camera API
// stores them. The SVG lies over an <img>/<video> scaled with object-fit: contain; its viewBox is
// the picture's own size and scales the same way (xMidYMid meet), so a point lands on the same
// pixel of the picture whatever the letterboxing.

import { h, svg } from "./dom.js";
import { labelColor } from "./label-colors.js";

const DEFAULT_SIZE = { width: 1600, height: 900 };
const FIT_EVERY_MS = 1000; // an MJPEG <img> may report its size without a load event
const SHOWN_KEY = "iris.zones.shown";
let hatches = 0; // pattern ids are document-wide

/**
 * The shapes of a camera (or of an editor's draft) in drawing order: masks first, so zones lie
 * above them. Each is {kind: "mask"|"zone", index, name, polygon, required}.
 */
export function shapesOf({ motion_masks: masks, zones, required_zones: required } = {}) {
  const wanted = new Set(required || []);
  return [
    ...(masks || []).map((polygon, index) => ({ kind: "mask", index, name: `Mask ${index + 1}`, polygon })),
    ...(zones || []).map((zone, index) => ({
      kind: "zone", index, name: zone.name, polygon: zone.polygon, required: Boolean(zone.required) || wanted.has(zone.name),
    })),
  ];
}

/** A zone's colour, the same in the editor, its list and the live view. */
export function zoneColor(name) {
  return labelColor(`zone:${name}`);
}

/** The shape's points in the canvas's units ("x,y x,y …"). */
function pointsAttr(polygon, size) {
  return polygon.map(([x, y]) => `${(x * size.width).toFixed(1)},${(y * size.height).toFixed(1)}`).join(" ");
}

/**
 * An <svg> to lay over a picture: `draw(shapes, {selected})` draws them, `setSize(w, h)` takes
 * the picture's size, `toUnit(event)` maps a pointer to a clamped normalised [x, y], and
 * `unitsPerPx()` converts screen pixels to its units (handles and text keep their screen size).
 * `layer` is drawn above the shapes (the editor's handles); `onResize` redraws when the
 * picture's size on screen changes (default: the shapes, whose text keeps its screen size).
 */
export function shapeCanvas({ className = "", label = "", onResize = null } = {}) {
  const hatch = `zone-hatch-${++hatches}`;
  const shapes = svg("g", { class: "zone-shapes" });
  const layer = svg("g", { class: "zone-layer" });
  const el = svg("svg", {
    class: ["zone-svg", className].filter(Boolean).join(" "), preserveAspectRatio: "xMidYMid meet",
    viewBox: `0 0 ${DEFAULT_SIZE.width} ${DEFAULT_SIZE.height}`, role: label ? "img" : null, "aria-label": label || null,
  },
  svg("defs", {}, svg("pattern", { id: hatch, width: 12, height: 12, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    svg("rect", { class: "mask-hatch-bg", width: 12, height: 12 }), svg("line", { class: "mask-hatch-line", x1: 0, y1: 0, x2: 0, y2: 12 }))),
  shapes, layer);
  const size = { ...DEFAULT_SIZE };
  let last = { list: [], options: {} };

  function unitsPerPx() {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) return size.width / 800;
    return Math.max(size.width / box.width, size.height / box.height);
  }

  function draw(list, options = {}) {
    last = { list, options };
    const px = unitsPerPx();
    shapes.replaceChildren(...list.map((shape) => {
      const selected = options.selected && options.selected.kind === shape.kind && options.selected.index === shape.index;
      const attrs = {
        class: ["shape", `${shape.kind}-shape`, selected ? "selected" : "", shape.required ? "required" : ""].filter(Boolean).join(" "),
        points: pointsAttr(shape.polygon, size), "data-kind": shape.kind, "data-index": shape.index, "data-name": shape.name,
      };
      if (shape.kind === "mask") attrs.fill = `url(#${hatch})`;
      const polygon = svg("polygon", attrs, svg("title", {}, shape.kind === "mask" ? `${shape.name}: motion ignored` : `Zone ${shape.name}`));
      if (shape.kind === "mask" || !shape.polygon.length) return polygon;
      const [x, y] = shape.polygon.reduce((top, p) => (p[1] < top[1] ? p : top));
      const group = svg("g", {}, polygon, svg("text", {
        class: "zone-name", x: x * size.width, y: Math.max(y * size.height - 6 * px, 14 * px), "font-size": 13 * px,
      }, shape.required ? `${shape.name} ★` : shape.name));
      group.style.setProperty("--zone-color", zoneColor(shape.name)); // CSSOM: the CSP refuses style attributes
      return group;
    }));
  }

  function setSize(width, height) {
    if (!(width > 0 && height > 0) || (width === size.width && height === size.height)) return;
    Object.assign(size, { width, height });
    el.setAttribute("viewBox", `0 0 ${width} ${height}`);
    draw(last.list, last.options);
  }

  function toUnit(event) {
    const matrix = el.getScreenCTM();
    if (!matrix) return [0, 0];
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const unit = (value, whole) => Math.round(Math.min(1, Math.max(0, value / whole)) * 10000) / 10000;
    return [unit(point.x, size.width), unit(point.y, size.height)];
  }

  // Handle and text sizes follow the picture's size on screen.
  const resized = new ResizeObserver(() => (onResize ? onResize() : draw(last.list, last.options)));
  resized.observe(el);
  return { el, layer, size, draw, setSize, toUnit, unitsPerPx, destroy: () => resized.disconnect() };
}

/** The picture size of the first <video>/<img> in `host`, or null before it has one. */
export function mediaSize(host) {
  const media = host.querySelector("video, img");
  if (!media) return null;
  const width = media.videoWidth || media.naturalWidth;
  const height = media.videoHeight || media.naturalHeight;
  return width && height ? [width, height] : null;
}

function description(shapes) {
  const zones = shapes.filter((s) => s.kind === "zone").map((s) => s.name);
  const masks = shapes.length - zones.length;
  return [zones.length ? `Zones: ${zones.join(", ")}` : "", masks ? `${masks} motion mask${masks === 1 ? "" : "s"}` : ""].filter(Boolean).join("; ");
}

/**
 * A camera's zones and masks over its live picture. `attach(host)` lays the SVG over the
 * host's media and keeps it there when the host's content is swapped (MJPEG, a <video>);
 * `update(camera)` redraws after a change; `toggle` is a button that shows or hides it
 * (remembered per browser; hidden when the camera has neither zones nor masks).
 * Returns {el, toggle, attach(host), update(camera), destroy()}.
 */
export function zoneOverlay(camera) {
  const canvas = shapeCanvas({ className: "zone-overlay" });
  const toggle = h("button", { class: "btn btn-ghost", type: "button", "aria-pressed": "true" }, "Zones");
  let shown = localStorage.getItem(SHOWN_KEY) !== "hidden";
  let observer = null;
  let timer = 0;
  let host = null;

  function show() {
    canvas.el.classList.toggle("zones-hidden", !shown);
    toggle.setAttribute("aria-pressed", String(shown));
    toggle.title = shown ? "Hide zones and masks" : "Show zones and masks";
  }
  toggle.addEventListener("click", () => {
    shown = !shown;
    localStorage.setItem(SHOWN_KEY, shown ? "shown" : "hidden");
    show();
  });

  function update(next) {
    const shapes = shapesOf(next);
    toggle.hidden = !shapes.length;
    canvas.el.setAttribute("aria-label", description(shapes) || "No zones or masks");
    canvas.el.setAttribute("role", "img");
    canvas.draw(shapes);
  }

  function fit() {
    if (!host) return;
    if (!host.contains(canvas.el)) host.append(canvas.el); // the host's content was replaced
    const found = mediaSize(host);
    if (found) canvas.setSize(...found);
  }

  update(camera);
  show();
  return {
    el: canvas.el,
    toggle,
    update,
    attach(target) {
      host = target;
      host.classList.add("has-zone-overlay");
      observer = new MutationObserver(fit);
      observer.observe(host, { childList: true });
      host.addEventListener("load", fit, true);
      host.addEventListener("loadedmetadata", fit, true);
      host.addEventListener("resize", fit, true);
      timer = setInterval(fit, FIT_EVERY_MS);
      fit();
    },
    destroy() {
      clearInterval(timer);
      if (observer) observer.disconnect();
      canvas.destroy();
    },
  };
}
