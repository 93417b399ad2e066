// Transient messages in the corner: what happened, and what went wrong.

import { h } from "./dom.js";

const LIFETIME_MS = { info: 4000, success: 3500, error: 8000 };

/** Show a toast; kind is "info", "success" or "error". Errors stay longer and can be closed. */
export function toast(message, kind = "info") {
  const host = document.getElementById("toasts");
  if (!host) return;
  // One message once: a refusal is reported by the API layer and by the action that failed.
  for (const shown of host.querySelectorAll(".toast-text")) {
    if (shown.textContent === message || (kind === "error" && message.endsWith(`: ${shown.textContent}`))) return;
  }
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", { class: "toast-text", text: message }),
    h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss", onclick: () => item.remove() }, "×"));
  host.append(item);
  while (host.children.length > 4) host.firstElementChild.remove();
  setTimeout(() => item.remove(), LIFETIME_MS[kind] || LIFETIME_MS.info);
}

/** Report a failed action: the server's detail, prefixed with what was being done. */
export function toastError(action, error) {
  if (error && error.name === "AbortError") return;
  const detail = error && error.message ? error.message : String(error);
  toast(action ? `${action}: ${detail}` : detail, "error");
}
