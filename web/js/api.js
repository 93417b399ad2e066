// The only way the app talks to Iris: JSON in and out, credentials attached, errors made readable.

import { getKey } from "./auth.js";

/** An API answer that was not 2xx: `status` and the server's `detail`, as `message`. */
export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** Statuses that mean "this backend does not offer that resource (yet)". */
const UNAVAILABLE = new Set([404, 501, 503]);

export function isUnavailable(error) {
  return error instanceof ApiError && UNAVAILABLE.has(error.status);
}

let loginHandler = null;
let pendingLogin = null;

/** `handler(message) → Promise<boolean>`: ask for a key; true when one was entered. */
export function setLoginHandler(handler) {
  loginHandler = handler;
}

/**
 * An absolute URL for an API path. Paths from the API ("/api/events/1/clip") and from the app
 * ("/api/cameras") resolve next to index.html, so the app also works under a path prefix.
 */
export function apiUrl(path, query = null) {
  const url = new URL(String(path).replace(/^\/+/, ""), document.baseURI);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === null || value === undefined || value === "") continue;
    url.searchParams.set(key, String(value));
  }
  return url.href;
}

/** Turn FastAPI's `detail` (a string, or a list of validation errors) into one sentence. */
export function messageFrom(body, status) {
  const detail = body && typeof body === "object" ? body.detail : body;
  if (typeof detail === "string" && detail.trim()) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((item) => {
      const where = (item.loc || []).filter((part) => part !== "body" && part !== "query");
      const msg = String(item.msg || "invalid").replace(/^Value error, /, "");
      return where.length ? `${where.join(".")}: ${msg}` : msg;
    }).join("; ");
  }
  return `The server answered ${status}.`;
}

/**
 * Call the API. Options: method, json (body), form (FormData), query, signal.
 * Resolves to parsed JSON (or text, or null for 204). Rejects with ApiError; on 401 it asks
 * for a key once and retries.
 */
export async function api(path, { method = "GET", json, form, query, signal } = {}, retried = false) {
  const headers = { Accept: "application/json" };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(apiUrl(path, query), {
      method, headers, body, signal, credentials: "same-origin", cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "Cannot reach the Iris server. Check the connection and try again.");
  }
  const payload = await readBody(response);
  if (response.status === 401 && !retried && loginHandler) {
    if (!pendingLogin) {
      pendingLogin = loginHandler(messageFrom(payload, 401)).finally(() => { pendingLogin = null; });
    }
    if (await pendingLogin) return api(path, { method, json, form, query, signal }, true);
  }
  if (!response.ok) throw new ApiError(response.status, messageFrom(payload, response.status), payload);
  return payload;
}

async function readBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  try {
    return type.includes("json") ? await response.json() : await response.text();
  } catch {
    return null;
  }
}

/** Lists come as arrays or as {items, total}; views want both shapes the same. */
export function itemsOf(payload) {
  if (Array.isArray(payload)) return { items: payload, total: payload.length };
  const items = (payload && (payload.items || payload.results || payload.data)) || [];
  return { items, total: payload && Number.isFinite(payload.total) ? payload.total : items.length };
}

let routesPromise = null;

/**
 * Whether the server offers a resource ("/api/identities"), from its OpenAPI schema, so views
 * for resources that are not built can say so without a failing request. Unknown → true.
 */
export async function offers(prefix) {
  if (!routesPromise) {
    routesPromise = api("/api/openapi.json")
      .then((schema) => Object.keys((schema && schema.paths) || {}))
      .catch(() => null);
  }
  const paths = await routesPromise;
  if (!paths || !paths.length) return true;
  return paths.some((path) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Forget the cached schema (after a login the schema becomes readable). */
export function forgetRoutes() {
  routesPromise = null;
}
