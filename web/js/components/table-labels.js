// Tables on a phone: each cell names its column, so css/phone.css can stack a row into a
// small card of "label value" lines instead of a table wider than the screen.
//
// One observer over the view labels every `.table` as it appears (views re-render theirs on
// refresh); a view needs to do nothing.

function label(table) {
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  if (!names.length) return;
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.children].forEach((cell, i) => {
      if (names[i] && cell.dataset.label !== names[i]) cell.dataset.label = names[i];
    });
  }
}

/** Label the tables under `root` now and whenever its content changes. */
export function labelTables(root) {
  let queued = false;
  const run = () => {
    queued = false;
    for (const table of root.querySelectorAll("table.table")) label(table);
  };
  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(run);
    }
  }).observe(root, { childList: true, subtree: true });
  run();
}
