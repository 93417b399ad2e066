// The shell: navigation, hash routing (#/live, #/events?…), sign-in, and the session footer.

import { isAdmin, roleLabel, setPrincipal } from "./access.js";
import { ApiError, setForbiddenHandler, setLoginHandler } from "./api.js";
import { getKey, setKey, startServiceWorker } from "./auth.js";
import { openDialog } from "./components/dialog.js";
import { emptyState, errorState, h, replace, spinner, svg } from "./components/dom.js";
import { labelTables } from "./components/table-labels.js";
import { toast, toastError } from "./components/toast.js";
import { api } from "./endpoints.js";

const ICONS = {
  live: "M3 6h13v12H3zM16 10l5-3v10l-5-3",
  cameras: "M4 7h3l2-2h6l2 2h3v12H4zM12 10a3 3 0 1 0 0 6a3 3 0 1 0 0-6",
  events: "M4 5h16v14H4zM4 9h16M9 5v4M15 5v4",
  recordings: "M12 4a8 8 0 1 0 0 16a8 8 0 1 0 0-16M12 8v4l3 2",
  identities: "M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8M4 20c1-4 4-6 8-6s7 2 8 6",
  people: "M8 5a3 3 0 1 0 0 6a3 3 0 1 0 0-6M16 6a3 3 0 1 0 0 6a3 3 0 1 0 0-6M2 19c1-3 3-5 6-5s5 2 6 5M14 14c3 0 6 2 7 5",
  "face-groups": "M7 4a3 3 0 1 0 0 6a3 3 0 1 0 0-6M17 4a3 3 0 1 0 0 6a3 3 0 1 0 0-6M12 13a3 3 0 1 0 0 6a3 3 0 1 0 0-6",
  analytics: "M4 20V10M10 20V4M16 20v-8M22 20H2",
  system: "M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8M12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2",
};

/**
 * Section → view module; `detail` serves "#/section/<id>". `admin`: the section is for
 * changing things, so a viewer's navigation leaves it out and its detail page says why.
 */
const ROUTES = {
  live: { title: "Live", view: "./views/live.js", detail: "./views/live-focus.js" },
  cameras: { title: "Cameras", view: "./views/cameras.js", detail: "./views/camera-form.js", admin: true },
  events: { title: "Events", view: "./views/events.js" },
  recordings: { title: "Recordings", view: "./views/recordings.js", detail: "./views/recordings.js" },
  identities: { title: "Identities", view: "./views/identities.js", detail: "./views/identity.js" },
  people: { title: "People", view: "./views/people.js", detail: "./views/person.js" },
  "face-groups": { title: "Face groups", view: "./views/face-groups.js" },
  analytics: { title: "Analytics", view: "./views/analytics.js" },
  system: { title: "System", view: "./views/system.js" },
};
const DEFAULT_ROUTE = "live";

const outlet = document.getElementById("view");
let current = { seq: 0, cleanup: null, controller: null };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  const [name = "", arg = ""] = path.split("/");
  return { name: name || DEFAULT_ROUTE, arg: decodeURIComponent(arg), query: new URLSearchParams(search) };
}

function renderNav() {
  const nav = document.getElementById("nav");
  const shown = Object.entries(ROUTES).filter(([, route]) => !route.admin || isAdmin());
  replace(nav, shown.map(([name, route]) =>
    h("a", { href: `#/${name}`, class: "nav-link", dataset: { route: name }, "aria-label": route.title, title: route.title },
      svg("svg", { viewBox: "0 0 24 24", width: 18, height: 18, "aria-hidden": "true" },
        svg("path", { d: ICONS[name], fill: "none", stroke: "currentColor", "stroke-width": 1.8, "stroke-linecap": "round", "stroke-linejoin": "round" })),
      h("span", { text: route.title }))));
}

function teardown() {
  if (current.controller) current.controller.abort();
  if (typeof current.cleanup === "function") {
    try {
      current.cleanup();
    } catch (error) {
      console.warn("Iris: view cleanup failed", error);
    }
  }
  current.cleanup = null;
  current.controller = null;
}

async function render({ focus = false } = {}) {
  const { name, arg, query } = parseHash();
  const route = ROUTES[name];
  if (!route) {
    location.replace(`#/${DEFAULT_ROUTE}`);
    return;
  }
  teardown();
  const seq = ++current.seq;
  for (const link of document.querySelectorAll(".nav-link")) {
    if (link.dataset.route === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${route.title} · Iris`;
  replace(outlet, spinner());
  const controller = new AbortController();
  current.controller = controller;
  const root = h("div", { class: `view view-${name}` });
  const ctx = {
    arg, query, signal: controller.signal,
    /** Reflect view state (filters, page) in the URL without re-rendering. */
    setQuery(params) {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) {
        if (value !== null && value !== undefined && value !== "" && value !== false) search.set(key, String(value));
      }
      const hash = `#/${name}${arg ? `/${encodeURIComponent(arg)}` : ""}${search.toString() ? `?${search}` : ""}`;
      history.replaceState(null, "", hash);
    },
    rerender: () => render(),
  };
  if (arg && route.admin && !isAdmin()) {
    replace(outlet, h("div", { class: `view view-${name}` }, emptyState("Viewers cannot change this",
      "This page changes the server's set-up, which needs the admin role.",
      h("a", { class: "btn", href: `#/${name}` }, `Back to ${route.title}`))));
    return;
  }
  try {
    const module = await import(arg && route.detail ? route.detail : route.view);
    if (seq !== current.seq) return;
    replace(outlet, root);
    const cleanup = await module.mount(root, ctx);
    if (seq !== current.seq) {
      if (typeof cleanup === "function") cleanup();
      return;
    }
    current.cleanup = cleanup;
  } catch (error) {
    if (seq !== current.seq || error.name === "AbortError") return;
    console.warn("Iris: view failed", error);
    replace(outlet, h("div", { class: "view" }, errorState(error, () => render())));
  }
  if (focus) outlet.focus({ preventScroll: true });
}

/** The sign-in prompt: shown when the API answers 401. Resolves true once a key works. */
async function askForKey(message) {
  const input = h("input", { class: "input", type: "password", name: "key", required: true, autocomplete: "current-password", autofocus: true, placeholder: "API key" });
  const ok = await openDialog({
    title: "Sign in to Iris",
    submit: "Sign in",
    cancel: null,
    body: [
      h("p", { class: "dialog-message", text: "This server needs an API key (or a single sign-on session through the gateway)." }),
      h("label", { class: "field" }, h("span", { class: "field-label", text: "API key" }), input,
        h("span", { class: "field-help", text: "Kept for this browser tab only." })),
      message && message !== "Authentication required." ? h("p", { class: "muted", text: message }) : null,
    ],
    async onSubmit() {
      const key = input.value.trim();
      try {
        await api.system.info({ key }); // this key, not the stored one, and no second prompt
      } catch (error) {
        throw error instanceof ApiError && error.status === 401 ? new Error("That API key is not valid.") : error;
      }
      setKey(key);
      return true;
    },
  });
  return ok === true;
}

function renderSession(system) {
  const host = document.getElementById("session");
  const user = (system && system.user) || {};
  setPrincipal(user);
  renderNav();
  const who = user.email || user.name || "signed in";
  replace(host,
    h("div", { class: "session-user", title: `Signed in via ${user.via || "?"}` },
      h("span", { class: "dot dot-online", "aria-hidden": "true" }), h("span", { text: who })),
    user.role ? h("div", { class: "session-role muted", dataset: { role: user.role }, text: roleLabel(user) }) : null,
    h("div", { class: "session-meta muted" }, `Iris ${system && system.version ? system.version : ""}`),
    getKey() ? h("button", {
      class: "btn btn-ghost btn-small", type: "button",
      onclick: () => { setKey(""); location.reload(); },
    }, "Forget key") : null);
}

async function boot() {
  renderNav();
  labelTables(outlet);
  setLoginHandler(askForKey);
  setForbiddenHandler((message) => toast(message, "error"));
  await startServiceWorker();
  try {
    renderSession(await api.system.info());
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) toastError("Iris is not reachable", error);
  }
  window.addEventListener("hashchange", () => render({ focus: true }));
  window.addEventListener("pagehide", teardown); // closes streams and HLS sessions
  window.addEventListener("pageshow", (event) => { if (event.persisted) render(); });
  if (!location.hash) history.replaceState(null, "", `#/${DEFAULT_ROUTE}`);
  await render();
}

boot();
