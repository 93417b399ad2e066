// Shared bits of the identity views: display names, camera lists and thumbnails.

import { h } from "./dom.js";
import { mediaImg } from "./media.js";

export function identityName(identity) {
  return identity.name || `Unknown #${identity.id}`;
}

/** Cameras come as ids, names or {id, name}; `cameraName` resolves ids. */
export function cameraLabels(list, cameraName) {
  return (list || []).map((c) => {
    if (c && typeof c === "object") return c.name || c.camera_name || cameraName(c.id ?? c.camera_id);
    return typeof c === "number" ? cameraName(c) : String(c);
  });
}

/** The identity's picture: its body crop, else its face, else a placeholder. */
export function identityThumb(identity) {
  const url = identity.rep_thumb_url || identity.face_thumb_url;
  return url ? mediaImg(url, { alt: "" }) : h("div", { class: "no-thumb", text: identity.object_class || "?" });
}
