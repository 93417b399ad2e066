// Export a range of a camera's recordings as an MP4 download, with progress.
//
// The clip is fetched by script (so the key travels in a header and the bytes can be counted
// against Content-Length), gathered into a Blob and handed to the browser as a download.

import { messageFrom } from "../api.js";
import { authHeaders } from "../auth.js";
import { api } from "../endpoints.js";
import { h, replace } from "./dom.js";
import { bytes, duration } from "./format.js";
import { clock } from "./timeline-scale.js";

/** Why an export did not happen, in words for the person who asked. */
export class ExportError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ExportError";
    this.status = status;
  }
}

function fileName(response, cameraName, range) {
  const header = response.headers.get("content-disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(header);
  if (match) return match[1];
  const stamp = new Date(range.start).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${cameraName || "camera"}-${stamp}.mp4`.replace(/[^\w.-]+/g, "_");
}

async function refusal(response, range) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // no JSON detail: the status says enough
  }
  const detail = messageFrom(body, response.status);
  if (response.status === 404) {
    return new ExportError(404, `Nothing was recorded between ${clock(range.start)} and ${clock(range.end)}: there is nothing to export.`);
  }
  if (response.status === 400) return new ExportError(400, `This range cannot be exported. ${detail}`);
  if (response.status === 401) return new ExportError(401, "Sign in again to export (the API key was refused).");
  return new ExportError(response.status, detail);
}

/**
 * Fetch the MP4 of `range` {start, end} (ms) with `onProgress(received, total|null)`, then offer
 * it as a download. Resolves {name, bytes}; rejects with ExportError (or AbortError).
 */
export async function exportRange(cameraId, range, { cameraName = "", signal, onProgress = () => {} } = {}) {
  const url = api.recordings.clipUrl(cameraId, { from: new Date(range.start).toISOString(), to: new Date(range.end).toISOString() });
  let response;
  try {
    response = await fetch(url, { headers: authHeaders(), signal, credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ExportError(0, "Cannot reach the Iris server. Check the connection and try again.");
  }
  if (!response.ok) throw await refusal(response, range);
  const total = Number(response.headers.get("content-length")) || null;
  const reader = response.body.getReader();
  const parts = [];
  let received = 0;
  onProgress(0, total);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress(received, total);
  }
  const blob = new Blob(parts, { type: "video/mp4" });
  const name = fileName(response, cameraName, range);
  const href = URL.createObjectURL(blob);
  const link = h("a", { href, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000); // the download has its own copy by then
  return { name, bytes: received };
}

/**
 * The export panel: the selected range, an Export button, progress and what went wrong.
 * `getRange()` → {start, end} | null. Returns {el, update(range), cancel()}.
 */
export function exportPanel(cameraId, { cameraName = "", getRange }) {
  const button = h("button", { class: "btn btn-primary", type: "button", disabled: true }, "Export MP4");
  const cancelButton = h("button", { class: "btn btn-ghost", type: "button", hidden: true }, "Cancel");
  const bar = h("progress", { class: "export-progress", max: 1, value: 0, hidden: true, "aria-label": "Export progress" });
  const note = h("span", { class: "export-note muted", "aria-live": "polite" });
  const problem = h("p", { class: "form-error export-error", role: "alert", hidden: true });
  const el = h("div", { class: "export-panel" }, h("div", { class: "toolbar" }, button, cancelButton, bar, note), problem);
  let controller = null;

  function update(range) {
    if (controller) return;
    button.disabled = !range;
    note.textContent = range ? `${clock(range.start)}–${clock(range.end)} (${duration((range.end - range.start) / 1000)})` : "Select a range to export it.";
  }

  async function run() {
    const range = getRange();
    if (!range) return;
    controller = new AbortController();
    problem.hidden = true;
    button.disabled = true;
    cancelButton.hidden = false;
    bar.hidden = false;
    bar.removeAttribute("value"); // indeterminate until the size is known
    note.textContent = "Preparing the clip…";
    try {
      const { name, bytes: size } = await exportRange(cameraId, range, {
        cameraName, signal: controller.signal,
        onProgress(received, total) {
          if (total) {
            bar.value = received / total;
            note.textContent = `${bytes(received)} of ${bytes(total)} (${Math.floor((100 * received) / total)} %)`;
          } else {
            note.textContent = `${bytes(received)} received`;
          }
        },
      });
      bar.value = 1;
      note.textContent = `Saved ${name} (${bytes(size)}).`;
    } catch (error) {
      if (error.name === "AbortError") {
        note.textContent = "Export cancelled.";
      } else {
        replace(problem, error.message);
        problem.hidden = false;
        note.textContent = "";
      }
      bar.hidden = true;
    } finally {
      controller = null;
      cancelButton.hidden = true;
      button.disabled = !getRange();
    }
  }

  button.addEventListener("click", run);
  cancelButton.addEventListener("click", () => controller && controller.abort());
  update(null);
  return { el, update, cancel: () => controller && controller.abort() };
}
