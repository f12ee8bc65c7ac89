// The results table ([data-results-table]): click a column heading to sort by it (again to
// reverse); "Needs attention only" ([data-results-filter]) hides the rows without a flag.
// The table is re-rendered by every websocket push, so the choice is kept here (and in
// sessionStorage, per page) and applied again after each swap.
(function () {
  "use strict";

  const key = "results:" + window.location.pathname;
  const state = Object.assign(
    { sortKey: null, descending: false, attentionOnly: false },
    JSON.parse(sessionStorage.getItem(key) || "{}"),
  );
  // Each row carries its sort values as data-sort-<key> (a missing one sorts last).
  function cellValue(row, key) {
    const raw = row.getAttribute("data-sort-" + key);
    if (raw === null || raw === "") return null;
    const number = Number(raw);
    return Number.isFinite(number) ? number : raw.toLowerCase();
  }

  function apply() {
    document.querySelectorAll("[data-results-filter]").forEach(function (box) {
      box.checked = state.attentionOnly;
    });
    document.querySelectorAll("table[data-results-table]").forEach(function (table) {
      const body = table.tBodies[0];
      if (!body) return;
      const rows = Array.from(body.rows);
      rows.forEach(function (row, i) {
        if (row.dataset.order === undefined) row.dataset.order = String(i);
        row.hidden = state.attentionOnly && row.dataset.attention !== "1";
      });
      const key = state.sortKey;
      rows.sort(function (a, b) {
        if (key) {
          const x = cellValue(a, key);
          const y = cellValue(b, key);
          if (x !== y) {
            if (x === null) return 1; // empty cells last either way
            if (y === null) return -1;
            const order = x < y ? -1 : 1;
            return state.descending ? -order : order;
          }
        }
        return a.dataset.order - b.dataset.order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      table.querySelectorAll("button[data-sort-key]").forEach(function (button) {
        const th = button.closest("th");
        const active = button.getAttribute("data-sort-key") === state.sortKey;
        th.setAttribute("aria-sort", active ? (state.descending ? "descending" : "ascending") : "none");
      });
      table.setAttribute("data-shown-rows", String(rows.filter(function (r) { return !r.hidden; }).length));
    });
  }

  function save() {
    sessionStorage.setItem(key, JSON.stringify(state));
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("button[data-sort-key]");
    if (!button) return;
    const sortKey = button.getAttribute("data-sort-key");
    state.descending = state.sortKey === sortKey ? !state.descending : false;
    state.sortKey = sortKey;
    save();
    apply();
  });
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-results-filter]")) return;
    state.attentionOnly = event.target.checked;
    save();
    apply();
  });
  ["htmx:oobAfterSwap", "htmx:afterSwap", "htmx:load"].forEach(function (name) {
    document.addEventListener(name, apply);
  });
  document.addEventListener("DOMContentLoaded", apply);
})();
