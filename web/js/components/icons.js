// Inline SVG icons (no icon font, no emoji: monitoring screens may lack emoji fonts).

import { svg } from "./dom.js";

const PATHS = {
  sound: "M4 9h4l5-4v14l-5-4H4zM16 9a4 4 0 0 1 0 6M18.5 6.5a8 8 0 0 1 0 11",
  mute: "M4 9h4l5-4v14l-5-4H4zM17 9l5 6M22 9l-5 6",
  record: "M12 6a6 6 0 1 0 0 12a6 6 0 1 0 0-12",
  stop: "M7 7h10v10H7z",
  fullscreen: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
  boxes: "M4 4h7v7H4zM13 13h7v7h-7z",
  play: "M8 5l11 7l-11 7z",
  back: "M15 5l-7 7l7 7",
  plus: "M12 5v14M5 12h14",
};
const FILLED = new Set(["record", "stop", "play"]);

/** An icon for a button or link; decorative (the text beside it names the action). */
export function icon(name, size = 16) {
  const filled = FILLED.has(name);
  return svg("svg", { class: "icon", viewBox: "0 0 24 24", width: size, height: size, "aria-hidden": "true" },
    svg("path", {
      d: PATHS[name], fill: filled ? "currentColor" : "none", stroke: filled ? "none" : "currentColor",
      "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round",
    }));
}
