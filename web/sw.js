/*
 * Iris service worker: puts the bearer key on the browser's own media requests.
 *
 * Why: <img>, <video> and native HLS cannot send an Authorization header, and the API accepts
 * either the SSO header (nginx) or a bearer key. Behind nginx the SSO cookie already does the
 * job and this worker is a no-op. With a bearer key (SSH tunnel, CLI setups), this worker adds
 * the key (auth.js's authHeaders) to same-origin GET/HEAD requests of the API that lack one:
 * thumbnails, snapshots, MJPEG streams (multipart responses are passed through untouched, so
 * closing the <img> closes the stream), clip Range requests (the Range header is kept, 206
 * answers pass through) and HLS playlists and segments.
 *
 * The key is never persisted here: the page keeps it in sessionStorage and posts it to the
 * worker. A worker the browser stopped and restarted has lost it, so it asks the page again.
 * A module worker (auth.js registers it so), sharing the page's modules.
 */

import { authHeaders } from "./js/auth.js";
import { isApiUrl } from "./js/endpoints.js";

const KEY_TIMEOUT_MS = 1500;
let apiKey = null; // null: unknown (ask a page); "": the page has none (SSO or open API)

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "key") apiKey = data.key || "";
  if (data.type === "claim") event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" && request.method !== "HEAD") return;
  const url = new URL(request.url);
  // The API sits beside the app, under whatever prefix the app is served at.
  if (url.origin !== self.location.origin || !isApiUrl(url, self.registration.scope)) return;
  if (request.headers.has("Authorization")) return; // api.js already sent the key
  event.respondWith(withKey(event));
});

async function withKey(event) {
  const request = event.request;
  const key = apiKey !== null ? apiKey : await askPage(event.clientId);
  if (!key) return fetch(request);
  const headers = new Headers(request.headers);
  for (const [name, value] of Object.entries(authHeaders(key))) headers.set(name, value);
  // A fresh same-origin request: the media/no-cors original would silently drop the header.
  return fetch(new Request(request.url, {
    method: request.method,
    headers,
    mode: "same-origin",
    credentials: "same-origin",
    cache: "no-store",
    redirect: "follow",
    signal: request.signal,
  }));
}

async function askPage(clientId) {
  const pages = [];
  const own = clientId ? await self.clients.get(clientId) : null;
  if (own) pages.push(own);
  pages.push(...(await self.clients.matchAll({ type: "window" })).filter((c) => c !== own));
  for (const page of pages) {
    const key = await requestKey(page);
    if (key !== null) {
      apiKey = key;
      return key;
    }
  }
  return "";
}

function requestKey(page) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), KEY_TIMEOUT_MS);
    channel.port1.onmessage = (message) => {
      clearTimeout(timer);
      resolve(typeof message.data === "string" ? message.data : null);
    };
    page.postMessage({ type: "key?" }, [channel.port2]);
  });
}
