// Tracked boxes drawn by the browser over a playing live <video> (the MSE player's overlay).
//
// The boxes come from the camera's detections stream (server-sent events, `endpoints.live.detections`) (labels, track
// ids, scores, 0–1 boxes), read with fetch() rather than EventSource so the bearer key travels
// as a header whichever way the page authenticates (auth.js: EventSource cannot send headers,
// and without a service worker nothing else would add it). The server sends an empty set when
// boxes go stale, so what is drawn is always what the camera tracks now. Drawing costs the
// server nothing: switching the boxes off closes the event stream.

import { apiUrl } from "../api.js";
import { authHeaders } from "../auth.js";
import { api } from "../endpoints.js";
import { h } from "./dom.js";
import { labelColor } from "./label-colors.js";

const RETRY_MS = 2000; // the server's `retry:` says the same
const MAX_RETRY_MS = 15000;

/** Where a video's picture sits inside its element (object-fit: contain letterboxes it). */
export function contentRect(video) {
  const width = video.clientWidth, height = video.clientHeight;
  const vw = video.videoWidth || width, vh = video.videoHeight || height;
  const scale = Math.min(width / vw, height / vh) || 1;
  const shownWidth = vw * scale, shownHeight = vh * scale;
  return { x: (width - shownWidth) / 2, y: (height - shownHeight) / 2, width: shownWidth, height: shownHeight };
}

/** Split a text/event-stream into events: calls `onEvent(type, data)` for each one. */
export function sseParser(onEvent) {
  let buffer = "";
  let type = "message";
  let data = [];
  return (text) => {
    buffer += text;
    const lines = buffer.split(/\r?\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (data.length) onEvent(type, data.join("\n"));
        type = "message";
        data = [];
      } else if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
  };
}

/**
 * A canvas over `video` that draws camera `cameraId`'s tracked boxes while started.
 * Returns {el, start(), stop(), boxes()}: `boxes()` is the set drawn last (for tests and tools).
 */
export function liveBoxes(cameraId, video) {
  const canvas = h("canvas", { class: "live-boxes", "aria-hidden": "true" });
  let controller = null;
  let current = [];
  let frame = 0;
  let retry = RETRY_MS;

  function draw() {
    frame = 0;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!current.length) return;
    const rect = contentRect(video);
    ctx.lineWidth = 2;
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (const box of current) {
      const [x1, y1, x2, y2] = box.box;
      const x = rect.x + x1 * rect.width, y = rect.y + y1 * rect.height;
      const w = (x2 - x1) * rect.width, bh = (y2 - y1) * rect.height;
      const color = labelColor(box.label);
      ctx.strokeStyle = color;
      ctx.strokeRect(x, y, w, bh);
      const text = `${box.label}${box.track_id != null ? ` #${box.track_id}` : ""} ${Math.round(box.score * 100)}%`;
      const tw = ctx.measureText(text).width + 8;
      const ty = y >= 18 ? y - 18 : y;
      ctx.fillStyle = color;
      ctx.fillRect(x - 1, ty, tw, 18);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, x + 3, ty + 3);
    }
  }
  const redraw = () => { if (!frame) frame = requestAnimationFrame(draw); };
  const resize = new ResizeObserver(redraw);

  async function follow(signal) {
    while (!signal.aborted) {
      try {
        const response = await fetch(apiUrl(api.live.detectionsUrl(cameraId)), {
          headers: authHeaders(), credentials: "same-origin", cache: "no-store", signal });
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        retry = RETRY_MS;
        const parse = sseParser((type, data) => {
          if (type !== "detections") return;
          try {
            current = JSON.parse(data).boxes || [];
          } catch {
            return;
          }
          redraw();
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parse(value);
        }
      } catch (error) {
        if (signal.aborted || error.name === "AbortError") return;
        retry = Math.min(MAX_RETRY_MS, retry * 2);
      }
      current = [];
      redraw();
      // The camera restarted or the server went away: reconnect as an EventSource would.
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
  }

  return {
    el: canvas,
    boxes: () => current,
    start() {
      if (controller) return;
      controller = new AbortController();
      resize.observe(canvas);
      canvas.hidden = false;
      follow(controller.signal);
    },
    stop() {
      if (controller) controller.abort();
      controller = null;
      resize.disconnect();
      current = [];
      canvas.hidden = true;
      redraw();
    },
  };
}
