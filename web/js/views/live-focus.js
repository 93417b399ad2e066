// One camera at full rate (#/live/<id>): its own video through MSE with sound and the tracked
// boxes drawn over it (mse-player.js), MJPEG where MSE cannot play (then sound is the HLS
// session), manual recording, fullscreen.

import { isServiceUnavailable } from "../api.js";
import { mediaNeedsScript } from "../auth.js";
import { backLink, emptyState, h, loadOrExplain, pageHeader, replace, spinner } from "../components/dom.js";
import { duration } from "../components/format.js";
import { icon } from "../components/icons.js";
import { livePlayer } from "../components/mse-player.js";
import { playEvent } from "../components/player.js";
import { statusBadge } from "../components/status.js";
import { recordingsHref } from "../components/timeline-events.js";
import { toast, toastError } from "../components/toast.js";
import { zoneOverlay } from "../components/zone-overlay.js";
import { api } from "../endpoints.js";

const REFRESH_MS = 5000;
const recordingKey = (id) => `iris.recording.${id}`;
const BOXES_KEY = "iris.live.boxes";

function boxesWanted() {
  try {
    return localStorage.getItem(BOXES_KEY) !== "off";
  } catch {
    return true;
  }
}

function rememberBoxes(on) {
  try {
    localStorage.setItem(BOXES_KEY, on ? "on" : "off");
  } catch {
    // storage disabled: the choice lasts for this page
  }
}

function elapsed(since) {
  const s = Math.max(0, Math.floor((Date.now() - new Date(since).getTime()) / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export async function mount(root, { arg, signal, rerender }) {
  const cameraId = Number(arg);
  replace(root, spinner("Loading camera…"));
  const camera = await loadOrExplain(root, () => api.cameras.get(cameraId, { signal }), {
    retry: rerender, notFound: () => emptyState("Camera not found", "It may have been deleted.", backLink("#/live", "All cameras")),
  });
  if (!camera) return undefined;

  const badge = h("span", {}, statusBadge(camera, { withReason: true }));
  const soundBtn = h("button", { class: "btn", type: "button", disabled: !camera.enabled, "aria-pressed": "false" });
  const boxesBtn = h("button", { class: "btn btn-ghost btn-boxes", type: "button", hidden: true, "aria-pressed": "false" });
  let video = null; // the HLS <video> while the MJPEG fallback plays live with sound
  const live = livePlayer(cameraId, { boxes: boxesWanted(), alt: `Live view of ${camera.name}`,
    onChange: () => showPlayer() });
  const stage = h("div", { class: "stage" }, camera.enabled ? live.el : h("div", { class: "tile-off", text: "Camera disabled" }));
  const zones = zoneOverlay(camera); // the camera's zones and masks over the picture
  const recordBtn = h("button", { class: "btn btn-record admin-only", type: "button", disabled: !camera.enabled });
  const label = (button, name, text) => replace(button, icon(name), h("span", { text }));
  const result = h("div", { class: "record-result", "aria-live": "polite" });
  const fullBtn = h("button", { class: "btn btn-ghost", type: "button", onclick: () => stage.requestFullscreen && stage.requestFullscreen() },
    icon("fullscreen"), "Fullscreen");
  const soundIdle = () => label(soundBtn, "sound", "Live with sound");
  soundIdle();
  // The controls follow the player: MSE unmutes its own sound and draws boxes; MJPEG (boxes
  // burned into its frames) gets its sound from an HLS session.
  function showPlayer() {
    const state = live.state();
    const mse = state.mode === "mse";
    boxesBtn.hidden = !mse;
    boxesBtn.setAttribute("aria-pressed", String(state.boxes));
    label(boxesBtn, "boxes", state.boxes ? "Boxes on" : "Boxes off");
    if (video) return;
    if (!mse) {
      soundIdle();
      soundBtn.disabled = !camera.enabled;
      soundBtn.setAttribute("aria-pressed", "false");
      return;
    }
    soundBtn.disabled = !state.audio;
    soundBtn.setAttribute("aria-pressed", String(state.audio && !state.muted));
    if (!state.audio) label(soundBtn, "mute", "No sound");
    else if (state.muted) label(soundBtn, "sound", "Unmute");
    else label(soundBtn, "mute", "Mute");
  }
  boxesBtn.addEventListener("click", () => {
    const on = !live.state().boxes;
    rememberBoxes(on);
    live.setBoxes(on);
  });
  showPlayer();

  replace(root,
    pageHeader(camera.name, "", h("a", { class: "btn btn-ghost", href: "#/live" }, icon("back"), "All cameras"),
      h("a", { class: "btn btn-ghost", href: recordingsHref(cameraId) }, "Recordings"),
      h("a", { class: "btn btn-ghost admin-only", href: `#/cameras/${cameraId}` }, "Settings")),
    h("div", { class: "focus-meta" }, badge),
    stage,
    h("div", { class: "toolbar focus-controls" }, soundBtn, boxesBtn, zones.toggle, recordBtn, fullBtn, result));
  if (camera.enabled) zones.attach(stage);

  // ---- live with sound over HLS (only where the player fell back to MJPEG)
  function stopSound() {
    if (!video) return;
    video.pause();
    video.removeAttribute("src");
    video.load();
    video = null;
    api.live.hlsClose(cameraId); // outlives the page when this runs as it closes
    replace(stage, live.el);
    live.start();
    showPlayer();
  }
  async function startSound() {
    if (mediaNeedsScript()) {
      toast("Live with sound needs the service worker: open Iris over HTTPS or on localhost.", "error");
      return;
    }
    soundBtn.disabled = true;
    label(soundBtn, "sound", "Starting…");
    try {
      // Starts the session and waits for the first playlist, so errors read as the server's.
      await api.live.hlsStart(cameraId, { signal });
    } catch (error) {
      soundIdle();
      soundBtn.disabled = false;
      if (error.name !== "AbortError") toastError(isServiceUnavailable(error) ? "Live with sound is unavailable" : "Live with sound failed", error);
      return;
    }
    soundBtn.disabled = false;
    live.stop();
    video = h("video", { class: "stage-video", controls: true, autoplay: true, playsInline: true });
    video.addEventListener("error", () => {
      if (video && video.error) toast(`Live with sound stopped (${video.error.message || "media error"}).`, "error");
    });
    video.src = api.live.hlsPlaylistUrl(cameraId);
    replace(stage, video);
    video.play().catch(() => { // no user gesture left (autoplay policy): start muted
      if (!video) return;
      video.muted = true;
      video.play().catch(() => {});
    });
    label(soundBtn, "mute", "Silent live");
    soundBtn.setAttribute("aria-pressed", "true");
  }
  soundBtn.addEventListener("click", () => {
    const state = live.state();
    if (!video && state.mode === "mse") live.setMuted(!state.muted); // a click: sound allowed
    else if (video) stopSound();
    else startSound();
  });

  // ---- manual recording (stateless on the server: we keep started_at for this tab)
  let ticker = 0;
  const showRecording = (startedAt) => {
    recordBtn.classList.add("recording");
    label(recordBtn, "stop", `Stop · ${elapsed(startedAt)}`);
    clearInterval(ticker);
    ticker = setInterval(() => label(recordBtn, "stop", `Stop · ${elapsed(startedAt)}`), 1000);
  };
  const showIdle = () => {
    clearInterval(ticker);
    recordBtn.classList.remove("recording");
    label(recordBtn, "record", "Record");
  };
  showIdle();
  const pending = sessionStorage.getItem(recordingKey(cameraId));
  if (pending) showRecording(pending);

  recordBtn.addEventListener("click", async () => {
    const startedAt = sessionStorage.getItem(recordingKey(cameraId));
    recordBtn.disabled = true;
    try {
      if (!startedAt) {
        const started = await api.live.recordStart(cameraId);
        sessionStorage.setItem(recordingKey(cameraId), started.started_at);
        replace(result);
        showRecording(started.started_at);
      } else {
        clearInterval(ticker);
        label(recordBtn, "stop", "Saving…");
        const stopped = await api.live.recordStop(cameraId, startedAt);
        sessionStorage.removeItem(recordingKey(cameraId));
        showIdle();
        showClip(stopped);
      }
    } catch (error) {
      if (startedAt && error.status === 400) sessionStorage.removeItem(recordingKey(cameraId));
      if (startedAt && error.status === 400) showIdle();
      else if (startedAt) showRecording(startedAt);
      toastError(startedAt ? "Saving the recording failed" : "Recording could not start", error);
    } finally {
      recordBtn.disabled = false;
    }
  });

  function showClip(stopped) {
    toast(`Saved a ${duration(stopped.duration)} clip.`, "success");
    const play = async () => {
      try {
        const event = await api.events.get(stopped.event_id);
        playEvent(event, { cameraName: camera.name });
      } catch (error) {
        toastError("The clip cannot be opened", error);
      }
    };
    replace(result, h("span", { class: "muted" }, `Clip saved (${duration(stopped.duration)}): `),
      h("a", { class: "clip-link", href: api.events.clipUrl(stopped.event_id), onclick: (e) => { e.preventDefault(); play(); } }, icon("play", 12), " Play clip"),
      " · ", h("a", { href: `#/events?camera_id=${cameraId}` }, "Events"));
  }

  // ---- lifecycle
  const onVisibility = () => {
    if (video || !live.state().muted) return; // sound keeps playing in the background
    if (document.hidden) live.stop();
    else live.start();
  };
  document.addEventListener("visibilitychange", onVisibility);
  if (camera.enabled && !document.hidden) live.start();
  const refresh = setInterval(async () => {
    try {
      const state = await api.cameras.get(cameraId, { signal });
      replace(badge, statusBadge(state, { withReason: true }));
      zones.update(state);
    } catch {
      // retried on the next tick
    }
  }, REFRESH_MS);

  return () => {
    clearInterval(refresh);
    clearInterval(ticker);
    document.removeEventListener("visibilitychange", onVisibility);
    stopSound();
    live.stop();
    zones.destroy();
  };
}
