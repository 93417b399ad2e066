// A list page's moving parts, written once for events, identities, face groups and people:
// fetch a page of items and show them as cards (or loading, empty, error), keep a selection
// with its bulk bar, page through, and clear everything after a confirmation.
//
// A view supplies what differs (how to fetch, how a card looks, what the bulk actions do, the
// wording); the kit owns the state and the DOM around the cards. Every part is optional, so a
// plain list (people) and a full one (events) read the same way.

import { confirmDialog } from "./dialog.js";
import { emptyState, errorState, h, replace, spinner } from "./dom.js";
import { toast, toastError } from "./toast.js";

/** "1 event", "3 events": `noun` is {one, many}. */
export function counted(n, noun) {
  return `${n} ${n === 1 ? noun.one : noun.many}`;
}

/**
 * Build a list page for a view; `ctx` is the view's (app.js): its signal aborts the fetches and
 * ends the polling, its URL query gives the first page, `setQuery` keeps the URL current.
 * Options (all but `fetchPage` and `card` optional):
 * - `fetchPage(query, {signal})` → Promise<{items, total}>: one page (`api.events.list` fits);
 *   `query` is `filters` plus offset and limit when paged.
 * - `card(item, {selectBox(label)})` → Node: one item; `selectBox` gives its selection checkbox.
 * - `key(item)` → the item's id (default `item.id`).
 * - `filters`: an object the view keeps current (call `reset()` after changing it); sent with
 *   every page and, with the paging, given to `setQuery` for the URL.
 * - `noun` {one, many}; `empty` {title, body}: nothing at all; when `narrowed()` (default: some
 *   filter is set) the kit says nothing matches instead. `loading` (spinner text); `gridClass`;
 *   `before` (nodes above the bulk bar: the filters).
 * - `paging` {sizes, prev, next}: a pager; the first size is the default.
 * - `selection` {hint, selectAll, actions: [{label, className, min, run(items) → truthy to reload}]}.
 * - `remove` {confirm(n) → {title, message}, run(ids) → result, done?(result) → text}: "Delete selected".
 * - `clearAll` {confirm() → {title, message}, run() → result, done?(result) → text}: `clearButton`.
 * - `failed(error)` → Node | null: a view's own error state (a 503's reason); else error + retry.
 * - `poll` {while(items), everyMs}: look again while some item is still changing.
 *
 * Returns {el, clearButton (to put in the page header), load({quiet}), reset()}.
 */
export function listPage(ctx, options) {
  const { fetchPage, card, key = (item) => item.id, filters = null, noun = { one: "item", many: "items" },
    empty = { title: `No ${noun.many} yet` }, loading = "Loading…", gridClass = "card-grid",
    before = [], paging = null, selection = null, remove = null, clearAll = null,
    failed = () => null, poll = null, narrowed = () => Object.values(filters || {}).some(Boolean) } = options;
  const { signal, query } = ctx;
  const sizes = paging ? paging.sizes : [];
  const state = {
    offset: paging ? Math.max(0, Number(query.get("offset")) || 0) : 0,
    limit: paging && sizes.includes(Number(query.get("limit"))) ? Number(query.get("limit")) : sizes[0],
    items: [],
    selected: new Set(),
  };
  const grid = h("div", { class: gridClass }, spinner(loading));
  const cards = new Map(); // key → the card shown for it
  const bulk = selection ? bulkBar() : null;
  const pager = paging ? h("nav", { class: "pager", "aria-label": "Pages", hidden: true }) : null;
  const clearButton = clearAll ? h("button", { class: "btn btn-danger-ghost admin-only", type: "button", onclick: clearEverything }, "Clear all…") : null;
  const el = h("div", { class: "list-page" }, before, bulk && bulk.el, grid, pager);

  // ---- selection and its bulk bar
  function bulkBar() {
    const all = selection.selectAll
      ? h("input", { type: "checkbox", "aria-label": `Select every ${noun.one} on this page`, onchange: () => {
        for (const item of state.items) toggle(key(item), all.checked);
        sync();
      } })
      : null;
    const count = h("span", { class: "muted" });
    const actions = (selection.actions || []).map((action) => ({
      ...action,
      button: h("button", { class: ["btn", action.className || ""], type: "button", disabled: true,
        onclick: () => act(() => action.run(selectedItems()), action.label) }, action.label),
    }));
    if (remove) {
      actions.push({ min: 1, button: h("button", { class: "btn btn-danger", type: "button", disabled: true, onclick: removeSelected }, "Delete selected") });
    }
    const bar = h("div", { class: "toolbar bulk-bar admin-only" },
      all ? h("label", { class: "check" }, all, selection.selectAll) : null, count, actions.map((a) => a.button));
    return { el: bar, all, count, actions };
  }

  function toggle(id, on) {
    if (on) state.selected.add(id);
    else state.selected.delete(id);
  }

  function selectedItems() {
    return state.items.filter((item) => state.selected.has(key(item)));
  }

  function selectBox(item, label) {
    const id = key(item);
    const box = h("input", { type: "checkbox", dataset: { select: id }, checked: state.selected.has(id), "aria-label": label });
    box.addEventListener("change", () => {
      toggle(id, box.checked);
      sync();
    });
    return h("label", { class: "check select-one admin-only" }, box);
  }

  function sync() {
    if (!bulk) return;
    const n = state.selected.size;
    bulk.count.textContent = n ? `${n} selected` : selection.hint || "";
    for (const action of bulk.actions) action.button.disabled = n < (action.min || 1);
    if (bulk.all) bulk.all.checked = state.items.length > 0 && state.items.every((item) => state.selected.has(key(item)));
    for (const [id, node] of cards) {
      const on = state.selected.has(id);
      node.classList.toggle("selected", on);
      const box = node.querySelector("input[data-select]");
      if (box) box.checked = on;
    }
  }

  /** Run a bulk action; a truthy answer means it changed the list: start afresh. */
  async function act(run, what) {
    try {
      if (await run()) {
        state.selected.clear();
        await load();
      }
    } catch (error) {
      toastError(`${what.replace(/…$/, "")} failed`, error);
    }
  }

  async function removeSelected() {
    const ids = [...state.selected];
    if (!ids.length) return;
    await act(async () => {
      if (!(await confirmDialog(remove.confirm(ids.length)))) return false;
      toast(summary(remove, await remove.run(ids)), "success");
      return true;
    }, "Delete");
  }

  async function clearEverything() {
    await act(async () => {
      if (!(await confirmDialog({ confirm: "Delete all", ...clearAll.confirm() }))) return false;
      toast(summary(clearAll, await clearAll.run()), "success");
      state.offset = 0;
      return true;
    }, "Clear all");
  }

  function summary(spec, result) {
    if (spec.done) return spec.done(result);
    return `Deleted ${counted(Number(result && result.deleted) || 0, noun)}.`;
  }

  function emptyView() {
    return narrowed()
      ? emptyState(`No ${noun.many} match`, "Try widening the filters.")
      : emptyState(empty.title, empty.body || "");
  }

  // ---- pager
  function renderPager(total) {
    pager.hidden = total === 0;
    const first = total ? state.offset + 1 : 0;
    const last = Math.min(total, state.offset + state.limit);
    const go = (offset) => { state.offset = Math.max(0, offset); load(); };
    let size = null;
    if (sizes.length > 1) {
      const label = `${noun.many.replace(/^\w/, (c) => c.toUpperCase())} per page`;
      size = h("select", { class: "input input-small", "aria-label": label, value: String(state.limit) },
        sizes.map((n) => h("option", { value: String(n) }, `${n} / page`)));
      size.addEventListener("change", () => { state.limit = Number(size.value); go(0); });
    }
    replace(pager,
      h("span", { class: "muted" }, `${first}–${last} of ${total}`),
      h("button", { class: "btn btn-small", type: "button", disabled: state.offset === 0, onclick: () => go(state.offset - state.limit) }, paging.prev || "‹ Previous"),
      h("button", { class: "btn btn-small", type: "button", disabled: last >= total, onclick: () => go(state.offset + state.limit) }, paging.next || "Next ›"),
      size);
  }

  // ---- loading
  let seq = 0;
  let shown = ""; // re-render only on change, so a refresh keeps focus and scroll
  let timer = 0;
  signal.addEventListener("abort", () => clearTimeout(timer));

  async function load({ quiet = false } = {}) {
    const mine = ++seq;
    clearTimeout(timer);
    const page = paging ? { offset: state.offset, limit: state.limit } : {};
    if (filters || paging) {
      ctx.setQuery({ ...filters, ...(paging ? { limit: state.limit === sizes[0] ? "" : state.limit, offset: state.offset || "" } : {}) });
    }
    if (!quiet) grid.setAttribute("aria-busy", "true");
    try {
      const { items, total } = await fetchPage({ ...filters, ...page }, { signal });
      if (mine !== seq || signal.aborted) return;
      if (paging && !items.length && state.offset > 0 && total > 0) {
        // The page emptied under us (deletes): go to the last page that has items.
        state.offset = Math.floor((total - 1) / state.limit) * state.limit;
        load();
        return;
      }
      state.items = items;
      const visible = new Set(items.map(key));
      for (const id of state.selected) if (!visible.has(id)) state.selected.delete(id);
      const next = JSON.stringify([filters, page, total, items]);
      if (next !== shown) {
        cards.clear();
        replace(grid, items.length ? items.map((item) => {
          const node = card(item, { selectBox: (label) => selectBox(item, label) });
          cards.set(key(item), node);
          return node;
        }) : emptyView());
      }
      shown = next;
      if (pager) renderPager(total);
      sync();
      if (poll && poll.while(items)) timer = setTimeout(() => load({ quiet: true }), poll.everyMs);
    } catch (error) {
      if (error.name === "AbortError" || mine !== seq) return;
      shown = "";
      cards.clear();
      replace(grid, failed(error) || errorState(error, () => load()));
    } finally {
      if (mine === seq) grid.removeAttribute("aria-busy");
    }
  }

  return {
    el,
    clearButton,
    load,
    /** The filters changed: back to the first page. */
    reset() {
      state.offset = 0;
      return load();
    },
  };
}
