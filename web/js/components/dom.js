// Element building and the small shared pieces of UI every view uses (loading, empty, error).

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Create an element: h("button", {class: "btn", onclick: fn}, "Save").
 * Attributes: `class`, `text`, `html` is deliberately not supported (no injected markup);
 * `on<event>` functions become listeners; `dataset` and `style` objects are merged;
 * booleans toggle the attribute; null/undefined/false skip it; `value` is set as a property.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  const { value, ...rest } = attrs || {};
  applyAttrs(el, rest);
  append(el, children);
  // After the children, so a <select> has its options; a property, so <textarea> works too.
  if (value !== undefined && value !== null) el.value = value;
  return el;
}

/** Create an SVG element (charts, timeline, icons). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v);
    }
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key in el && typeof value !== "string") el[key] = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
}

/** Append children (nodes, strings, numbers, nested arrays; null/false skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function spinner(label = "Loading…") {
  return h("div", { class: "loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

/** A friendly empty state: title, explanation, optional action node. */
export function emptyState(title, body = "", action = null) {
  return h("div", { class: "empty" },
    h("div", { class: "empty-mark", "aria-hidden": "true" }, "◌"),
    h("h3", { text: title }),
    body ? h("p", { text: body }) : null,
    action);
}

/** An error panel with a retry button. */
export function errorState(error, retry = null) {
  return h("div", { class: "empty error-state", role: "alert" },
    h("div", { class: "empty-mark", "aria-hidden": "true" }, "!"),
    h("h3", { text: "Something went wrong" }),
    h("p", { text: error && error.message ? error.message : String(error) }),
    retry ? h("button", { class: "btn", type: "button", onclick: retry }, "Try again") : null);
}

/**
 * Load what a view needs before it can draw. When that fails, `where` shows why (a 404 as
 * `notFound()`, anything else as the error with a `retry`) and the answer is undefined; a load
 * aborted because the view went away shows nothing.
 */
export async function loadOrExplain(where, load, { retry = null, notFound = null } = {}) {
  try {
    return await load();
  } catch (error) {
    if (error.name === "AbortError") return undefined;
    replace(where, notFound && error.status === 404 ? notFound() : errorState(error, retry));
    return undefined;
  }
}

/** A button-looking link back to a list ("All cameras"), for a not-found state. */
export function backLink(href, text) {
  return h("a", { class: "btn", href }, text);
}

/**
 * Load a view, then reload it every `everyMs` while it is shown. A failed first load shows
 * the error (with retry) in `body`; later failures keep the last good content.
 * Returns the view's cleanup (stops the timer), or undefined when the first load failed.
 */
export async function loadAndRefresh(load, body, retry, everyMs) {
  try {
    await load();
  } catch (error) {
    replace(body, errorState(error, retry));
    return undefined;
  }
  const refresh = setInterval(() => load().catch(() => {}), everyMs);
  return () => clearInterval(refresh);
}

/** What the server cannot offer right now (a 503, e.g. face models missing), in its words. */
export function unavailableState(what, error) {
  return emptyState(`${what}: unavailable right now`, `${error.message} The rest of the app keeps working.`);
}

/** A page header: title, optional subtitle and actions on the right. */
export function pageHeader(title, subtitle = "", ...actions) {
  return h("header", { class: "page-head" },
    h("div", {}, h("h1", { text: title }), subtitle ? h("p", { class: "muted", text: subtitle }) : null),
    h("div", { class: "page-actions" }, actions));
}

/** Add actions to a page header shown earlier (a list's "Clear all…" once the list exists). */
export function addActions(header, ...actions) {
  append(header.querySelector(".page-actions"), actions);
}

/** A labelled form field wrapper. */
export function field(label, control, help = "") {
  return h("label", { class: "field" },
    h("span", { class: "field-label", text: label }),
    control,
    help ? h("span", { class: "field-help", text: help }) : null);
}

/** Debounce a function (filter inputs, sliders). */
export function debounce(fn, ms = 300) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
