// Cameras: the list with live status; add, edit (#/cameras/<id>), delete.

import { confirmDialog } from "../components/dialog.js";
import { emptyState, h, loadAndRefresh, pageHeader, replace, spinner } from "../components/dom.js";
import { ago } from "../components/format.js";
import { statusBadge } from "../components/status.js";
import { toast, toastError } from "../components/toast.js";
import { showUnreviewed } from "../components/unreviewed.js";
import { api } from "../endpoints.js";

const REFRESH_MS = 5000;

function liveCells(camera) {
  return [
    h("td", {}, statusBadge(camera, { withReason: true, fps: false })), // fps has its column
    h("td", { class: "num" }, camera.enabled && camera.status === "online" ? Number(camera.fps || 0).toFixed(1) : "—"),
    h("td", { class: "muted hide-narrow" }, camera.last_seen ? ago(camera.last_seen) : "never"),
  ];
}

/** Refresh only the status cells, so focus and hover survive the periodic refresh. */
function updateRow(tr, camera) {
  liveCells(camera).forEach((cell, i) => tr.children[i + 1].replaceWith(cell));
}

function row(camera, onDelete) {
  return h("tr", { dataset: { camera: camera.id } },
    h("td", {}, h("a", { class: "strong", href: `#/cameras/${camera.id}` }, camera.name),
      h("div", { class: "mono muted small", text: camera.rtsp_url })),
    liveCells(camera),
    h("td", { class: "hide-narrow" }, h("div", { class: "chips" }, (camera.trigger_classes || "person").split(",").filter(Boolean)
      .map((label) => h("span", { class: "chip chip-static", text: label })))),
    h("td", { class: "actions" },
      h("a", { class: "btn btn-small", href: `#/live/${camera.id}` }, "Live"),
      h("a", { class: "btn btn-small admin-only", href: `#/cameras/${camera.id}` }, "Edit"),
      h("button", { class: "btn btn-small btn-danger-ghost admin-only", type: "button", onclick: () => onDelete(camera) }, "Delete")));
}

export async function mount(root, { signal, rerender }) {
  const body = h("div", {}, spinner("Loading cameras…"));
  replace(root, pageHeader("Cameras", "Sources, their state and how they detect.",
    h("a", { class: "btn btn-primary admin-only", href: "#/cameras/new" }, "+ Add camera")), body);

  async function remove(camera) {
    const sure = await confirmDialog({
      title: `Delete “${camera.name}”?`,
      message: "The camera and everything recorded from it (events, clips, thumbnails, sightings) are deleted. This cannot be undone.",
      confirm: "Delete camera",
    });
    if (!sure) return;
    try {
      await api.cameras.remove(camera.id);
      toast(`Deleted ${camera.name}.`, "success");
      await load();
    } catch (error) {
      toastError("Delete failed", error);
    }
  }

  let shown = "";
  async function load() {
    const cameras = await api.cameras.list({ signal });
    const layout = JSON.stringify(cameras.map((c) => [c.id, c.name, c.rtsp_url, c.trigger_classes]));
    if (layout === shown) {
      for (const camera of cameras) updateRow(body.querySelector(`tr[data-camera="${camera.id}"]`), camera);
      return;
    }
    shown = layout;
    if (!cameras.length) {
      replace(body, emptyState("No cameras yet", "Add an RTSP camera: Iris records what it sees and streams it live.",
        h("a", { class: "btn btn-primary admin-only", href: "#/cameras/new" }, "Add a camera")));
      return;
    }
    replace(body, h("div", { class: "table-wrap" }, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["Camera", "Status", "FPS", "Last frame", "Triggers", ""].map((t, i) =>
        h("th", { text: t, class: i === 3 || i === 4 ? "hide-narrow" : null })))),
      h("tbody", {}, cameras.map((camera) => row(camera, remove))))));
  }

  const loadWithCounts = async () => {
    await load();
    await showUnreviewed(body, (tr) => tr.firstElementChild, { signal }); // "3 new" beside the name
  };
  return loadAndRefresh(loadWithCounts, body, rerender, REFRESH_MS);
}
