// How the app talks to Iris: JSON in and out, credentials attached, errors made readable.
// Which paths exist is endpoints.js's business; this module only carries the calls.

import { authHeaders, getKey } from "./auth.js";

/** An API answer that was not 2xx: `status` and the server's `detail`, as `message`. */
export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/**
 * A 503: the server cannot offer this right now, and says why (face features without face
 * models, HLS disabled or full). Views show the reason instead of a retry button.
 */
export function isServiceUnavailable(error) {
  return error instanceof ApiError && error.status === 503;
}

let loginHandler = null;
let pendingLogin = null;
let forbiddenHandler = null;

/** `handler(message) → Promise<boolean>`: ask for a key; true when one was entered. */
export function setLoginHandler(handler) {
  loginHandler = handler;
}

/** `handler(message)`: tell the user a 403 refused something (a viewer's change, …). */
export function setForbiddenHandler(handler) {
  forbiddenHandler = handler;
}

/**
 * An absolute URL for a path of the server. Paths the API answers with (an event's clip_url)
 * and endpoints.js's resolve next to index.html (`base`), so the app also works under a path
 * prefix. Empty query values are left out.
 */
export function apiUrl(path, query = null, base = document.baseURI) {
  const url = new URL(String(path).replace(/^\/+/, ""), base);
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
 * Make one API request. Options: method, json (body), form (FormData), query, signal, and `key` (a
 * bearer key to try instead of the stored one: the sign-in check). Resolves to parsed JSON
 * (or text, or null for 204). Rejects with ApiError; on 401 it asks for a key once and retries.
 */
export async function request(path, { method = "GET", json, form, query, signal, key } = {}, retried = false) {
  const headers = { Accept: "application/json", ...authHeaders(key ?? getKey()) };
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
  if (response.status === 401 && !retried && key === undefined && loginHandler) {
    if (!pendingLogin) {
      pendingLogin = loginHandler(messageFrom(payload, 401)).finally(() => { pendingLogin = null; });
    }
    if (await pendingLogin) return request(path, { method, json, form, query, signal }, true);
  }
  if (response.status === 403 && forbiddenHandler) forbiddenHandler(messageFrom(payload, 403));
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

/**
 * A POST that outlives the page (closing a stream as the tab goes away). With the SSO cookie a
 * beacon carries the credentials; a beacon cannot carry a bearer key, so then a keepalive
 * fetch (which also survives the page) sends it. Fire and forget: nothing to wait for.
 */
export function sendAndForget(path) {
  const url = apiUrl(path);
  if (!getKey() && navigator.sendBeacon && navigator.sendBeacon(url)) return;
  fetch(url, { method: "POST", keepalive: true, headers: authHeaders() }).catch(() => {});
}
