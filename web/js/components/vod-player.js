// Recorded footage in a <video>, from any moment: the recording store's HLS VOD playlist
// (Chromium and Safari play m3u8 natively; the service worker adds the key to its requests).
//
// A playlist covers an hour from the chosen moment with the gaps closed up, so the video's
// time is not the wall clock: each segment's `#EXT-X-PROGRAM-DATE-TIME` says when it starts,
// and this module maps one to the other both ways. Reaching the end of an hour goes on with
// the next; at the live edge it waits for the next segment.

import { ApiError, request } from "../api.js";
import { mediaNeedsScript } from "../auth.js";
import { api } from "../endpoints.js";
import { h } from "./dom.js";
import { clock } from "./timeline-scale.js";

const WINDOW_MS = 60 * 60 * 1000;
const LIVE_EDGE_MS = 60 * 1000;
const EDGE_RETRY_MS = 4000;
const EDGE_RETRIES = 8;

/** The segments of a VOD playlist: [{position, duration} in s, start in epoch ms], in order. */
export function parsePlaylist(text) {
  const segments = [];
  let position = 0;
  let start = null;
  let length = null;
  for (const raw of String(text).split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
      start = Date.parse(line.slice("#EXT-X-PROGRAM-DATE-TIME:".length));
    } else if (line.startsWith("#EXTINF:")) {
      length = Number.parseFloat(line.slice("#EXTINF:".length));
    } else if (line && !line.startsWith("#") && length !== null) {
      // A segment without a date follows on from the previous one.
      const previous = segments[segments.length - 1];
      const at = Number.isFinite(start) && start !== null ? start
        : previous ? previous.start + previous.duration * 1000 : NaN;
      if (Number.isFinite(at)) segments.push({ position, duration: length, start: at });
      position += length;
      start = null;
      length = null;
    }
  }
  return segments;
}

/** The video time (s) showing wall time `t`: inside a segment, or where the next starts. */
export function positionOf(segments, t) {
  for (const s of segments) {
    const end = s.start + s.duration * 1000;
    if (t < s.start) return s.position; // in a gap: the footage after it
    if (t < end) return s.position + (t - s.start) / 1000;
  }
  return null;
}

/** The wall time (ms) the video shows at `position` s. */
export function wallAt(segments, position) {
  let found = segments[0];
  for (const s of segments) {
    if (s.position <= position) found = s;
    else break;
  }
  if (!found) return null;
  return found.start + Math.min(found.duration, Math.max(0, position - found.position)) * 1000;
}

/**
 * A player of one camera's recordings. Callbacks: `onTime(t)` the wall time shown (ms);
 * `onStatus(text, kind)` what the player is doing or why it cannot ("" clears it).
 * Returns {el, playFrom(t, {play}), scrubTo(t), toggle(), wallTime(), stop()}.
 */
export function vodPlayer(cameraId, { onTime = () => {}, onStatus = () => {} } = {}) {
  const video = h("video", { class: "stage-video vod-video", controls: true, playsInline: true, preload: "auto" });
  video.muted = true; // autoplay is allowed muted; the controls unmute
  let current = null; // {segments, end (ms)}
  let seq = 0;
  let frame = 0;
  let retry = 0;
  let switching = false; // between two windows the video's time belongs to neither

  const wallTime = () => (current ? wallAt(current.segments, video.currentTime) : null);
  const report = () => {
    if (switching) return;
    const t = wallTime();
    if (t !== null) onTime(t);
  };
  const tick = () => {
    report();
    frame = video.paused ? 0 : requestAnimationFrame(tick);
  };
  video.addEventListener("play", () => { cancelAnimationFrame(frame); frame = requestAnimationFrame(tick); });
  for (const name of ["timeupdate", "seeked", "seeking", "pause"]) video.addEventListener(name, report);
  video.addEventListener("error", () => {
    if (video.error && video.getAttribute("src")) onStatus(`Playback failed (${video.error.message || `media error ${video.error.code}`}).`, "error");
  });
  video.addEventListener("ended", () => {
    if (current) playFrom(current.end + 1, { play: true, continuing: 0 });
  });

  function start(play) {
    if (!play) return;
    video.play().catch(() => {
      video.muted = true; // no user gesture left (autoplay policy): start muted
      video.play().catch(() => {});
    });
  }

  function seek(position, play) {
    video.currentTime = position;
    start(play);
  }

  function loaded(url) {
    return new Promise((resolve, reject) => {
      const done = () => { video.removeEventListener("error", failed); resolve(); };
      const failed = () => { video.removeEventListener("loadedmetadata", done); reject(new Error(video.error ? video.error.message : "media error")); };
      video.addEventListener("loadedmetadata", done, { once: true });
      video.addEventListener("error", failed, { once: true });
      video.src = url;
    });
  }

  /**
   * Play (or, with play false, show) the footage of wall time `t`. Resolves true when there
   * is some at or after `t`, false when nothing was recorded from there (said in onStatus).
   */
  async function playFrom(t, { play = true, continuing = null } = {}) {
    const mine = ++seq;
    clearTimeout(retry);
    switching = false;
    if (mediaNeedsScript()) {
      onStatus("Playing recordings needs the service worker: open Iris over HTTPS or on localhost.", "error");
      return false;
    }
    const inWindow = current && t >= current.segments[0].start ? positionOf(current.segments, t) : null;
    if (inWindow !== null) {
      onStatus("");
      seek(inWindow, play);
      return true;
    }
    switching = true;
    video.pause();
    try {
      return await loadWindow(t, { play, continuing, mine });
    } finally {
      if (mine === seq) switching = false;
    }
  }

  async function loadWindow(t, { play, continuing, mine }) {
    const url = api.recordings.playlistUrl(cameraId, { from: new Date(t).toISOString(), to: new Date(t + WINDOW_MS).toISOString() });
    let segments;
    try {
      onStatus(continuing === null ? `Loading ${clock(t)}…` : "");
      segments = parsePlaylist(await request(url));
    } catch (error) {
      if (mine !== seq) return false;
      if (error instanceof ApiError && error.status === 404) {
        const atEdge = Date.now() - t < LIVE_EDGE_MS;
        if (continuing !== null && atEdge && continuing < EDGE_RETRIES) {
          onStatus("Waiting for the next recorded segment…");
          retry = setTimeout(() => playFrom(t, { play, continuing: continuing + 1 }), EDGE_RETRY_MS);
        } else {
          onStatus(continuing !== null ? `The recording ends at ${clock(t)}.` : `Nothing was recorded from ${clock(t)} on.`, "info");
        }
        return false;
      }
      onStatus(`The recording cannot be loaded: ${error.message}`, "error");
      return false;
    }
    if (mine !== seq) return false;
    if (!segments.length) {
      onStatus(`Nothing was recorded from ${clock(t)} on.`, "info");
      return false;
    }
    const last = segments[segments.length - 1];
    current = { segments, end: last.start + last.duration * 1000 };
    try {
      await loaded(url);
    } catch (error) {
      if (mine === seq) onStatus(`Playback failed (${error.message}).`, "error");
      return false;
    }
    if (mine !== seq) return false;
    switching = false;
    onStatus("");
    seek(positionOf(segments, t) ?? 0, play);
    return true;
  }

  /** While the cursor is dragged: show `t` now when it is in the loaded hour (no reload). */
  function scrubTo(t) {
    const position = current && t >= current.segments[0].start ? positionOf(current.segments, t) : null;
    if (position === null) return false;
    if (typeof video.fastSeek === "function") video.fastSeek(position);
    else video.currentTime = position;
    return true;
  }

  function toggle() {
    if (!video.getAttribute("src")) return;
    if (video.paused) start(true);
    else video.pause();
  }

  function stop() {
    seq += 1;
    clearTimeout(retry);
    cancelAnimationFrame(frame);
    video.pause();
    video.removeAttribute("src");
    video.load();
    current = null;
  }

  return { el: video, playFrom, scrubTo, toggle, wallTime, stop };
}
