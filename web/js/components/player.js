// Clip playback in a dialog: <video controls> on the event's clip (Range requests → seeking).

import { apiUrl } from "../api.js";
import { api } from "../endpoints.js";
import { confirmDialog } from "./dialog.js";
import { h } from "./dom.js";
import { duration, when } from "./format.js";
import { mediaImg, setVideoSource } from "./media.js";
import { recordingsHref } from "./timeline-events.js";
import { toast, toastError } from "./toast.js";

/**
 * Play one event's clip. `event` is an EventPublic (or {id, clip_url}); `cameraName` labels it.
 * `onDeleted(id)` runs after the user deleted it from the player.
 */
export function playEvent(event, { cameraName = "", onDeleted = null } = {}) {
  const clip = event.clip_url || api.events.clipUrl(event.id);
  const video = h("video", { class: "player-video", controls: true, autoplay: true, playsInline: true, preload: "auto" });
  video.muted = true; // autoplay is allowed muted; the controls unmute
  const release = setVideoSource(video, clip);
  video.addEventListener("error", () => {
    const media = video.error;
    if (media) toast(`The clip cannot be played (${media.message || `media error ${media.code}`}).`, "error");
  });

  const title = [event.label, cameraName].filter(Boolean).join(" · ") || `Event ${event.id}`;
  const close = () => {
    release();
    dialog.close();
  };
  const remove = async () => {
    if (!(await confirmDialog({ title: "Delete this event?", message: "The clip and thumbnail are deleted too. This cannot be undone." }))) return;
    try {
      await api.events.remove(event.id);
      toast("Event deleted.", "success");
      close();
      if (onDeleted) onDeleted(event.id);
    } catch (error) {
      toastError("Delete failed", error);
    }
  };

  const meta = h("dl", { class: "meta" },
    h("dt", {}, "Started"), h("dd", {}, when(event.ts)),
    h("dt", {}, "Length"), h("dd", {}, duration(event.duration)),
    event.kind ? [h("dt", {}, "Kind"), h("dd", {}, event.kind)] : null,
    event.person_name ? [h("dt", {}, "Person"), h("dd", {}, event.person_name)] : null,
    event.identity_id ? [h("dt", {}, "Identity"), h("dd", {}, h("a", { href: `#/identities/${event.identity_id}`, onclick: close }, `#${event.identity_id}`))] : null);

  const dialog = h("dialog", { class: "dialog dialog-wide player", "aria-label": `Clip: ${title}` },
    h("header", { class: "dialog-head" },
      h("h2", { text: title }),
      h("button", { class: "icon-btn", type: "button", "aria-label": "Close", onclick: close }, "×")),
    h("div", { class: "dialog-body" }, video, meta),
    h("footer", { class: "dialog-foot" },
      h("a", { class: "btn btn-ghost", href: apiUrl(clip), download: `iris-event-${event.id}.mp4` }, "Download"),
      event.camera_id ? h("a", { class: "btn btn-ghost", href: recordingsHref(event.camera_id, { event }), onclick: close }, "Show in timeline") : null,
      event.id ? h("button", { class: "btn btn-danger admin-only", type: "button", onclick: remove }, "Delete") : null,
      h("button", { class: "btn btn-primary", type: "button", onclick: close }, "Close")));
  dialog.addEventListener("close", () => {
    release();
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  video.focus();
  return dialog;
}

/** A clip as a small button (thumbnail, camera, time, length) that plays it; lists of clips. */
export function clipChip(event, cameraName) {
  return h("button", {
    class: "clip-chip", type: "button", disabled: !event.clip_url,
    onclick: () => playEvent(event, { cameraName }),
  }, event.thumb_url ? mediaImg(event.thumb_url, { alt: "" }) : h("div", { class: "no-thumb", text: "▶" }),
  h("span", {}, `${cameraName} · ${when(event.ts)} · ${duration(event.duration)}`));
}
