// Modal dialogs on the native <dialog>: Esc cancels, Enter submits, focus stays inside.

import { h } from "./dom.js";

/**
 * Open a modal. `body` is a node (or list); `submit` is the primary button's label;
 * `onSubmit(form)` may be async: it returns a value to close with, or throws to keep the dialog
 * open and show the error inline. Resolves with that value, or null when cancelled.
 */
export function openDialog({ title, body, submit = "OK", danger = false, cancel = "Cancel", wide = false,
  onSubmit = null, className = "" }) {
  return new Promise((resolve) => {
    const error = h("p", { class: "dialog-error", role: "alert", hidden: true });
    const primary = submit
      ? h("button", { class: ["btn", danger ? "btn-danger" : "btn-primary"], type: "submit" }, submit)
      : null;
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("header", { class: "dialog-head" },
        h("h2", { text: title }),
        h("button", { class: "icon-btn", type: "button", "aria-label": "Close", onclick: () => finish(null) }, "×")),
      h("div", { class: "dialog-body" }, body, error),
      h("footer", { class: "dialog-foot" },
        cancel ? h("button", { class: "btn btn-ghost", type: "button", onclick: () => finish(null) }, cancel) : null,
        primary));
    const dialog = h("dialog", { class: ["dialog", wide ? "dialog-wide" : "", className] }, form);
    let settled = false;

    function finish(value) {
      if (settled) return;
      settled = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(value);
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!primary) return;
      error.hidden = true;
      primary.disabled = true;
      try {
        finish(onSubmit ? await onSubmit(form) : true);
      } catch (failure) {
        error.textContent = failure && failure.message ? failure.message : String(failure);
        error.hidden = false;
      } finally {
        primary.disabled = false;
      }
    });
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault(); // Esc: close through finish so the promise resolves
      finish(null);
    });
    dialog.addEventListener("close", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    const focusable = dialog.querySelector("[autofocus], input, select, textarea, .dialog-foot .btn-primary, .dialog-foot .btn-danger");
    if (focusable) focusable.focus();
  });
}

/** Ask before something irreversible. Resolves true when confirmed. */
export async function confirmDialog({ title, message, confirm = "Delete", danger = true }) {
  const result = await openDialog({
    title, submit: confirm, danger,
    body: h("p", { class: "dialog-message", text: message }),
  });
  return result === true;
}

/** Ask for one line of text. Resolves with the trimmed text, or null when cancelled. */
export async function promptDialog({ title, label, value = "", placeholder = "", confirm = "Save",
  required = true, help = "" }) {
  const input = h("input", { class: "input", type: "text", name: "value", value, placeholder, required, autofocus: true, maxlength: 200 });
  const result = await openDialog({
    title, submit: confirm,
    body: h("label", { class: "field" }, h("span", { class: "field-label", text: label }), input,
      help ? h("span", { class: "field-help", text: help }) : null),
    onSubmit: () => input.value.trim(),
  });
  return result === null ? null : result;
}
