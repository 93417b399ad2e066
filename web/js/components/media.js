// Images, live frames and clips from the API, whichever credential the page uses.
//
// Normally a media URL is set straight on <img>/<video>: behind nginx the SSO cookie
// authenticates it, and with a bearer key the service worker (sw.js) adds the header.
// Without a service worker and with a bearer key (a plain-HTTP origin other than localhost),
// mediaNeedsScript() is true and these helpers fetch with the header instead: images and clips
// become object URLs, and MJPEG is read with fetch() and split into frames here.

import { apiUrl } from "../api.js";
import { authHeaders, mediaNeedsScript } from "../auth.js";
import { api } from "../endpoints.js";
import { h } from "./dom.js";

async function fetchBlobUrl(path, signal) {
  const response = await fetch(apiUrl(path), { headers: authHeaders(), signal, credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return URL.createObjectURL(await response.blob());
}

/** An <img> of an API image (thumbnail, snapshot, face); a broken one shows a placeholder. */
export function mediaImg(path, { alt = "", className = "", lazy = true } = {}) {
  const img = h("img", { alt, class: className, loading: lazy ? "lazy" : null, decoding: "async" });
  img.addEventListener("error", () => img.classList.add("img-broken"));
  img.addEventListener("load", () => img.classList.remove("img-broken"));
  setImageSource(img, path);
  return img;
}

/** Point an <img> at an API image. */
export function setImageSource(img, path) {
  if (!path) {
    img.removeAttribute("src");
    img.classList.add("img-broken");
    return;
  }
  if (!mediaNeedsScript()) {
    img.src = apiUrl(path);
    return;
  }
  fetchBlobUrl(path).then((url) => {
    // The decoded image survives revoking its object URL.
    img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
    img.src = url;
  }).catch(() => img.classList.add("img-broken"));
}

/** Point a <video> at an API clip. Returns a function that releases it. */
export function setVideoSource(video, path) {
  if (!mediaNeedsScript()) {
    video.src = apiUrl(path);
    return () => { video.removeAttribute("src"); video.load(); };
  }
  const controller = new AbortController();
  let url = null;
  fetchBlobUrl(path, controller.signal).then((blobUrl) => {
    url = blobUrl;
    video.src = url;
  }).catch(() => {});
  return () => {
    controller.abort();
    video.removeAttribute("src");
    video.load();
    if (url) URL.revokeObjectURL(url);
  };
}

/**
 * A live picture of one camera: `mode` "mjpeg" (one long response) or "snapshot" (one request
 * per frame, for many tiles over HTTP/1.1 where a browser keeps only 6 connections per host).
 * `fps` null means the server's full rate. Returns {el, start(), stop()}; stop() closes the
 * stream so the camera stops encoding JPEGs for us.
 */
export function liveImage(cameraId, { fps = null, mode = "mjpeg", alt = "" } = {}) {
  const img = h("img", { class: "live-img", alt, decoding: "async" });
  let running = false;
  let timer = 0;
  let controller = null;

  function pollSnapshot() {
    if (!running) return;
    const next = () => { if (running) timer = setTimeout(pollSnapshot, 1000 / (fps || 2)); };
    img.addEventListener("load", next, { once: true });
    img.addEventListener("error", next, { once: true });
    setImageSource(img, api.live.snapshotUrl(cameraId, { t: Date.now() }));
  }

  function start() {
    if (running) return;
    running = true;
    if (mode === "snapshot") {
      pollSnapshot();
    } else if (mediaNeedsScript()) {
      controller = new AbortController();
      readMjpeg(api.live.streamUrl(cameraId, fps), img, controller.signal);
    } else {
      img.src = api.live.streamUrl(cameraId, fps);
    }
  }

  function stop() {
    running = false;
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = null;
    img.removeAttribute("src"); // closes the multipart response
  }

  return { el: img, start, stop };
}

const CRLF2 = [13, 10, 13, 10];

function indexOf(bytes, pattern, from = 0) {
  outer: for (let i = from; i <= bytes.length - pattern.length; i += 1) {
    for (let j = 0; j < pattern.length; j += 1) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

/** Read a multipart/x-mixed-replace JPEG stream with fetch() and show each frame in `img`. */
async function readMjpeg(url, img, signal) {
  try {
    const response = await fetch(url, { headers: authHeaders(), signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const reader = response.body.getReader();
    let buffer = new Uint8Array(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(buffer.length + value.length);
      joined.set(buffer);
      joined.set(value, buffer.length);
      buffer = joined;
      for (;;) {
        const headEnd = indexOf(buffer, CRLF2);
        if (headEnd < 0) break;
        const head = new TextDecoder().decode(buffer.subarray(0, headEnd));
        const length = Number((/content-length:\s*(\d+)/i.exec(head) || [])[1]);
        if (!Number.isFinite(length)) throw new Error("MJPEG part without Content-Length");
        const start = headEnd + 4;
        if (buffer.length < start + length) break;
        showFrame(img, buffer.slice(start, start + length));
        buffer = buffer.slice(start + length);
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") img.classList.add("img-broken");
  }
}

function showFrame(img, jpeg) {
  const url = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
  img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
  img.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
  img.src = url;
}
