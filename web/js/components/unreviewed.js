// Unreviewed events per camera (api.events.unreviewed): a badge beside a camera's name in
// the cameras list and on its live tile, linking to those events.

import { api } from "../endpoints.js";
import { h } from "./dom.js";

/** The events view narrowed to a camera's unreviewed events. */
export function unreviewedHref(cameraId) {
  return `#/events?camera_id=${encodeURIComponent(cameraId)}&reviewed=false`;
}

/** "3 new" (null for none); a link to them unless it sits inside another link (`link: false`). */
export function unreviewedBadge(count, cameraId, { link = true } = {}) {
  if (!count) return null;
  const words = `${count} unreviewed event${count === 1 ? "" : "s"}`;
  const attrs = { class: "badge unreviewed-badge", title: words, "aria-label": words, dataset: { count } };
  return link ? h("a", { ...attrs, href: unreviewedHref(cameraId) }, `${count} new`) : h("span", attrs, `${count} new`);
}

/**
 * Give every `[data-camera]` element under `container` its badge, in the element `slot(el)`
 * names. Resolves to the counts ({total, by_camera}), or null when they could not be read:
 * the badges are a hint, so the page keeps the last ones and says why in the console.
 */
export async function showUnreviewed(container, slot, { signal, link = true } = {}) {
  let counts;
  try {
    counts = await api.events.unreviewed({ signal });
  } catch (error) {
    if (error.name !== "AbortError") console.warn("Iris: unreviewed counts unavailable", error.message);
    return null;
  }
  if (!counts || signal?.aborted) return null; // the view went away while the body was read
  for (const el of container.querySelectorAll("[data-camera]")) {
    const place = slot(el);
    if (!place) continue;
    const badge = unreviewedBadge(Number((counts.by_camera || {})[el.dataset.camera]) || 0, el.dataset.camera, { link });
    const old = place.querySelector(".unreviewed-badge");
    if (old && badge) old.replaceWith(badge);
    else if (old) old.remove();
    else if (badge) place.append(badge);
  }
  return counts;
}
