// Credentials: the SSO cookie needs nothing from us; a bearer key is entered once per tab.
//
// The key lives in sessionStorage (gone when the tab closes); authHeaders() is the one place
// it becomes a header, for api.js, media.js's scripted fetches and the service worker alike.
// Media elements cannot send headers, so the service worker (../sw.js) adds the header to the
// browser's own API requests; it asks this page for the key whenever it has none in memory.
// Where no service worker can run (a non-secure origin other than localhost), media.js falls
// back to fetch() + object URLs.
//
// Nothing here runs at import: the service worker imports this module too.

const STORE = "iris.apiKey";
const READY_TIMEOUT_MS = 4000;

export function getKey() {
  try {
    return sessionStorage.getItem(STORE) || "";
  } catch {
    return "";
  }
}

/**
 * The headers that carry a credential: `Authorization: Bearer <key>` for a key (this tab's by
 * default), none without one (the SSO cookie travels by itself).
 */
export function authHeaders(key = getKey()) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export function setKey(key) {
  try {
    if (key) sessionStorage.setItem(STORE, key);
    else sessionStorage.removeItem(STORE);
  } catch {
    // Storage disabled: the key lasts as long as the service worker keeps it.
  }
  postKey();
}

/** True when this page's media requests go through our service worker. */
export function workerControls() {
  return Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
}

/** True when media URLs must be fetched by script because nothing else can carry the key. */
export function mediaNeedsScript() {
  return Boolean(getKey()) && !workerControls();
}

function postKey() {
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (worker) worker.postMessage({ type: "key", key: getKey() });
}

function timeout(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Register the worker and wait (bounded) until it controls this page, so the first <img>
 * already goes through it. Resolves to whether it does; never rejects.
 */
export async function startServiceWorker() {
  const container = navigator.serviceWorker;
  if (!container || !window.isSecureContext) return false;
  container.addEventListener("controllerchange", postKey); // a new or updated worker took over
  container.addEventListener("message", (event) => {
    if (event.data && event.data.type === "key?" && event.ports[0]) {
      event.ports[0].postMessage(getKey());
    }
  });
  try {
    const registration = await container.register("sw.js", { scope: "./", type: "module" });
    const ready = await Promise.race([container.ready, timeout(READY_TIMEOUT_MS)]);
    if (!ready) return false;
    if (!container.controller) {
      // First visit or a hard reload: ask the active worker to take this page over.
      const changed = new Promise((resolve) =>
        container.addEventListener("controllerchange", resolve, { once: true }));
      (registration.active || ready.active).postMessage({ type: "claim" });
      await Promise.race([changed, timeout(READY_TIMEOUT_MS)]);
    }
  } catch (error) {
    console.warn("Iris: service worker unavailable, media falls back to scripted fetches", error);
    return false;
  }
  postKey();
  return workerControls();
}
