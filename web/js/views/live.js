// Live: every camera as a tile; a tile opens the focused view (#/live/<id>). A few cameras play
// their own video (MSE, muted, full rate); many get low-rate MJPEG tiles or polled snapshots.

import { emptyState, errorState, h, pageHeader, replace, spinner } from "../components/dom.js";
import { liveImage } from "../components/media.js";
import { livePlayer } from "../components/mse-player.js";
import { statusBadge } from "../components/status.js";
import { showUnreviewed } from "../components/unreviewed.js";
import { api } from "../endpoints.js";

const GRID_FPS = 2;
const REFRESH_MS = 5000;
// Over HTTP/1.1 a browser opens at most 6 connections per host, and each MJPEG tile holds one
// for as long as it shows. Past this many tiles the grid polls snapshots instead, so the API
// calls of the page never queue behind the streams. HTTP/2 (nginx with TLS) has no such cap.
const HTTP1_STREAMS = 4;
// Up to this many streaming cameras the tiles play MSE (the camera's own H.264, full rate,
// muted), beyond it 2 fps MJPEG tiles. Measured in one run each (bench/RESULTS.md, README
// "Live view"): the server side favours MSE (50 MSE viewers cost the ingress 0.18 ms per frame
// delivered, 50 MJPEG ones 1.17 ms; a watched camera's actor 1.12x its unwatched CPU for its
// muxer), but the browser decodes every frame of every MSE tile in software: 0.02 cores per
// 720p15 tile here, against nothing measurable for a 2 fps MJPEG tile, and it grows with the
// camera's size and rate (a 1080p25 tile is ~4x that), so a wall of 16 would cost the viewer's
// machine a core or more. 4 keeps that to a fraction of a core and also fits HTTP/1.1's six
// connections per host (HTTP1_STREAMS above) with room left for the page's API calls.
const MSE_TILES = 4;

function multiplexed() {
  const [navigation] = performance.getEntriesByType("navigation");
  return Boolean(navigation && /^h[23]/.test(navigation.nextHopProtocol || ""));
}

function tile(camera, mode) {
  const alt = `Live view of ${camera.name}`;
  let live = null;
  if (camera.enabled && mode === "mse") live = livePlayer(camera.id, { boxes: false, fps: GRID_FPS, alt });
  else if (camera.enabled) live = liveImage(camera.id, { fps: GRID_FPS, mode, alt });
  const badge = h("span", { class: "tile-status" }, statusBadge(camera));
  const el = h("a", { class: "tile", href: `#/live/${camera.id}`, dataset: { camera: camera.id }, "aria-label": `${camera.name}: open full view` },
    h("div", { class: "tile-media" }, live ? live.el : h("div", { class: "tile-off", text: "Camera disabled" })),
    h("div", { class: "tile-bar" }, h("span", { class: "tile-name", text: camera.name }), badge));
  return {
    el, live,
    update(next) { replace(badge, statusBadge(next)); },
  };
}

export async function mount(root, { signal, rerender }) {
  const body = h("div", {}, spinner("Loading cameras…"));
  replace(root, pageHeader("Live", "Every camera at a glance. Open one for full rate, sound and recording."), body);

  let cameras;
  try {
    cameras = await api.cameras.list({ signal });
  } catch (error) {
    replace(body, errorState(error, rerender));
    return undefined;
  }
  if (!cameras.length) {
    replace(body, emptyState("No cameras yet", "Add an RTSP camera to start watching and recording.",
      h("a", { class: "btn btn-primary admin-only", href: "#/cameras/new" }, "Add a camera")));
    return undefined;
  }

  const streaming = cameras.filter((c) => c.enabled).length;
  let mode = multiplexed() || streaming <= HTTP1_STREAMS ? "mjpeg" : "snapshot";
  if (streaming <= MSE_TILES) mode = "mse";
  const tiles = new Map(cameras.map((camera) => [camera.id, tile(camera, mode)]));
  // A wall layout: 1 camera fills the width, 2–4 make 2 columns, 5–9 make 3, more make 4.
  const columns = Math.min(4, Math.ceil(Math.sqrt(cameras.length)));
  replace(body, h("div", { class: "live-grid", style: { "--cols": String(columns), "--cols-md": String(Math.min(columns, 2)) } },
    [...tiles.values()].map((t) => t.el)));

  const counts = () => showUnreviewed(body, (el) => el.querySelector(".tile-bar"), { signal, link: false });
  counts();
  const startAll = () => tiles.forEach((t) => t.live && t.live.start());
  const stopAll = () => tiles.forEach((t) => t.live && t.live.stop());
  const onVisibility = () => (document.hidden ? stopAll() : startAll());
  document.addEventListener("visibilitychange", onVisibility);
  if (!document.hidden) startAll();

  const refresh = setInterval(async () => {
    try {
      for (const camera of await api.cameras.list({ signal })) {
        const t = tiles.get(camera.id);
        if (t) t.update(camera);
      }
      await counts();
    } catch {
      // A missed status refresh is retried on the next tick; the streams keep running.
    }
  }, REFRESH_MS);

  return () => {
    clearInterval(refresh);
    document.removeEventListener("visibilitychange", onVisibility);
    stopAll();
  };
}
