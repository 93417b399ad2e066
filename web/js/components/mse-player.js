// A camera live at full rate with sound: its own H.264 as fragmented MP4 through MediaSource.
//
// The player asks the MSE info route for the codecs string, checks
// `MediaSource.isTypeSupported`, then streams the MSE route (fetch, so the bearer key
// rides as a header: auth.js) into one SourceBuffer. Live means now: whenever the newest buffered
// frame is more than LIVE_LAG_S ahead of the playhead, it jumps to LIVE_EDGE_S behind it, and
// what lies more than KEEP_BEHIND_S behind the playhead is removed, so the buffer stays bounded.
// It starts muted (browsers refuse sound without a gesture): `setMuted(false)` from a click.
// When the stream ends (the camera restarted, the server went away) it reconnects with a fresh
// MediaSource: a new stream brings a new init segment and its own timeline. Where MSE or the
// codec is unsupported, or the stream keeps failing before it ever plays, it falls back to
// MJPEG (`liveImage`, the camera's annotated frames). With `boxes` it draws the tracked boxes
// over the video (live-boxes.js); MJPEG frames carry them already.

import { apiUrl } from "../api.js";
import { authHeaders } from "../auth.js";
import { api } from "../endpoints.js";
import { h, replace } from "./dom.js";
import { liveBoxes } from "./live-boxes.js";
import { liveImage } from "./media.js";

const LIVE_EDGE_S = 0.3;
const LIVE_LAG_S = 1.0;
const KEEP_BEHIND_S = 10;
const TRIM_EVERY_S = 20;
const RETRY_MS = 1000;
const MAX_RETRY_MS = 10000;
const FAILURES_BEFORE_MJPEG = 3;
const STALL_MS = 8000; // above the route's 6 s wait for a first init segment

/** Why this browser cannot play the stream through MSE, or null when it can. */
export function mseUnsupported(mime) {
  const MS = window.MediaSource || window.ManagedMediaSource;
  if (!MS) return "this browser has no Media Source Extensions";
  if (mime && !MS.isTypeSupported(mime)) return `this browser cannot play ${mime}`;
  return null;
}

function mediaError(message) {
  return Object.assign(new Error(message), { media: true });
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * One camera's live player. Options: `boxes` (draw the overlay), `fps` (the MJPEG fallback's
 * rate, null: full), `alt`, `onChange(player)` (mode, sound or muting changed).
 * Returns {el, start(), stop(), setMuted(bool), setBoxes(bool), state()}; `state()` says
 * mode ("mse" | "mjpeg" | "idle"), audio (the stream has sound), muted, boxes, reason (why
 * MJPEG), reconnects.
 */
export function livePlayer(cameraId, { boxes = true, fps = null, alt = "", onChange = () => {} } = {}) {
  const el = h("div", { class: "live-player", dataset: { camera: cameraId, mode: "idle" } });
  const video = h("video", { class: "stage-video live-video", muted: true, autoplay: true, playsInline: true,
    "aria-label": alt });
  video.muted = true; // the attribute alone does not mute a scripted element
  const overlay = liveBoxes(cameraId, video);
  let mjpeg = null;
  let controller = null;
  const state = { mode: "idle", audio: false, muted: true, boxes, reason: null, reconnects: 0 };
  const changed = () => {
    el.dataset.mode = state.mode; // for styles and tests: "mse" or "mjpeg"
    onChange(player);
  };

  function useMjpeg(reason) {
    state.mode = "mjpeg";
    state.reason = reason;
    state.audio = false;
    overlay.stop();
    if (!mjpeg) mjpeg = liveImage(cameraId, { fps, alt });
    replace(el, mjpeg.el);
    mjpeg.start();
    changed();
  }

  /**
   * One stream from open to end: resolves to whether it played a frame. Rejects with
   * `.media` set when the browser could not decode or append what came (counts toward MJPEG);
   * other errors (HTTP, network) are the server's and are only retried.
   */
  async function playOnce(info, signal) {
    const source = new (window.MediaSource || window.ManagedMediaSource)();
    const url = URL.createObjectURL(source);
    video.disableRemotePlayback = true; // ManagedMediaSource needs it
    video.src = url;
    let played = false;
    let stalled = false;
    let watchdog = 0;
    const onTime = () => { if (video.currentTime > 0) played = true; };
    video.addEventListener("timeupdate", onTime);
    try {
      await new Promise((resolve, reject) => {
        source.addEventListener("sourceopen", resolve, { once: true });
        video.addEventListener("error", () => reject(new Error("media error")), { once: true });
      });
      let buffer;
      try {
        buffer = source.addSourceBuffer(info.mime);
      } catch (error) {
        throw mediaError(error.message);
      }
      // A stream that stops sending (a camera restart the server has not noticed yet, a
      // network that dropped silently) is given up and reopened: fragments come every ≤ 0.5 s.
      const stream = new AbortController();
      signal.addEventListener("abort", () => stream.abort(), { once: true });
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => { stalled = true; stream.abort(); }, STALL_MS);
      };
      arm();
      const response = await fetch(apiUrl(api.live.mseUrl(cameraId)), {
        headers: authHeaders(), credentials: "same-origin", cache: "no-store", signal: stream.signal });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      const queue = [];
      let lastTrim = 0;
      const failed = new Promise((_, reject) => {
        video.addEventListener("error", () => reject(mediaError(video.error ? video.error.message || "media error" : "media error")), { once: true });
      });
      failed.catch(() => {});
      const append = async (chunk) => {
        if (buffer.updating) await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
        try {
          buffer.appendBuffer(chunk);
        } catch (error) {
          if (error.name !== "QuotaExceededError") throw mediaError(error.message);
          // Full: drop all but the last seconds behind the playhead and try once more.
          const start = buffer.buffered.length ? buffer.buffered.start(0) : 0;
          buffer.remove(start, Math.max(start + 0.1, video.currentTime - 1));
          await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
          buffer.appendBuffer(chunk);
        }
        await Promise.race([new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true })), failed]);
        keepLive();
        if (video.currentTime - lastTrim > TRIM_EVERY_S) {
          const ranges = buffer.buffered;
          if (ranges.length && video.currentTime - ranges.start(0) > KEEP_BEHIND_S) {
            lastTrim = video.currentTime;
            buffer.remove(0, video.currentTime - KEEP_BEHIND_S / 2);
            await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
          }
        }
      };
      const keepLive = () => {
        const ranges = buffer.buffered;
        if (!ranges.length) return;
        const end = ranges.end(ranges.length - 1);
        if (video.currentTime < ranges.start(0) || end - video.currentTime > LIVE_LAG_S) {
          video.currentTime = Math.max(ranges.start(ranges.length - 1), end - LIVE_EDGE_S);
        }
        if (video.paused) video.play().catch(() => {});
      };
      let bytes = 0;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          arm();
          bytes += value.byteLength;
          queue.push(value);
          while (queue.length) await append(queue.shift());
        }
      } catch (error) {
        if (!stalled || signal.aborted) throw error;
      }
      played = played || video.currentTime > 0;
      if (!played && bytes > 0) throw mediaError("the stream played no frame");
      return played;
    } catch (error) {
      if (stalled && !signal.aborted) return played; // reopened like a stream that ended
      throw error;
    } finally {
      clearTimeout(watchdog);
      video.removeEventListener("timeupdate", onTime);
      video.removeAttribute("src");
      video.load();
      URL.revokeObjectURL(url);
    }
  }

  async function run(signal) {
    let failures = 0;
    let retry = RETRY_MS;
    while (!signal.aborted) {
      let info = null;
      try {
        info = await api.live.mseInfo(cameraId, { signal });
      } catch (error) {
        if (signal.aborted) return;
        if (error.status === 404) return; // deleted: the view says so on its next refresh
        // 409 (disabled), 503 (offline, restarting), no network: the camera may come back.
        state.reason = error.message;
      }
      if (info) {
        const why = mseUnsupported(info.mime);
        if (why) return useMjpeg(why);
        if (state.mode !== "mse" || state.audio !== info.audio) {
          state.mode = "mse";
          state.audio = info.audio;
          state.reason = null;
          replace(el, video, overlay.el);
          changed();
        }
        if (state.boxes) overlay.start(); // again after a stop() and start()
        try {
          if (await playOnce(info, signal)) {
            failures = 0;
            retry = RETRY_MS;
          }
        } catch (error) {
          if (signal.aborted || error.name === "AbortError") return;
          if (error.media) failures += 1;
          state.reason = error.message;
        }
      }
      if (failures >= FAILURES_BEFORE_MJPEG) return useMjpeg(state.reason || "the live MP4 stream keeps failing");
      if (signal.aborted) return;
      state.reconnects += 1;
      await sleep(retry, signal);
      retry = Math.min(MAX_RETRY_MS, retry * 2);
    }
  }

  const player = {
    el,
    video,
    state: () => ({ ...state, boxesDrawn: overlay.boxes().length }),
    start() {
      if (controller) return;
      controller = new AbortController();
      if (state.mode === "mjpeg" && mjpeg) {
        mjpeg.start(); // a fallback stays one until the view is opened again
        return;
      }
      const why = mseUnsupported(null);
      if (why) {
        useMjpeg(why);
        return;
      }
      run(controller.signal);
    },
    stop() {
      if (controller) controller.abort();
      controller = null;
      overlay.stop();
      if (mjpeg) mjpeg.stop();
      video.pause();
    },
    setMuted(muted) {
      state.muted = muted;
      video.muted = muted;
      if (!muted) video.play().catch(() => {});
      changed();
    },
    setBoxes(on) {
      state.boxes = on;
      if (on && state.mode === "mse" && controller) overlay.start();
      else overlay.stop();
      changed();
    },
  };
  return player;
}
