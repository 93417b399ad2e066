// One colour per event label, the same wherever events are drawn (timeline, lists, legends).

import { PALETTE } from "./charts.js";

// Labels every install sees get fixed colours that match their badges in app.css.
const FIXED = { manual: "#ff3b3b", motion: "#f5a524", person: "#4f8cff", car: "#2ec4a6" };

/** The colour of events labelled `label`: fixed for common ones, else stable by name. */
export function labelColor(label) {
  const name = String(label || "");
  if (FIXED[name]) return FIXED[name];
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}
