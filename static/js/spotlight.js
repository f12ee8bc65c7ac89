// The projector page's keys: V (or the space bar) cycles what is shown (all four cells,
// then each one over the whole stage); H shows the next attention head. The choice lives
// on .spotlight-page, outside the live-swapped stage, so pushes keep it.
(function () {
  "use strict";

  const VIEWS = [
    ["all", "all four"],
    ["loss", "the loss"],
    ["predictions", "the predictions"],
    ["attention", "the attention"],
    ["samples", "the samples"],
  ];

  function page() {
    return document.querySelector(".spotlight-page");
  }

  function show(index) {
    const el = page();
    if (!el) return;
    const [view, name] = VIEWS[index % VIEWS.length];
    el.setAttribute("data-view", view);
    const label = el.querySelector(".spotlight-view-name");
    if (label) label.textContent = name;
    window.dispatchEvent(new Event("resize")); // canvases redraw at their new size
  }

  function nextHead() {
    const thumbs = Array.from(document.querySelectorAll(".spotlight-page .head-thumb"));
    if (!thumbs.length) return;
    const current = thumbs.findIndex(function (t) { return t.getAttribute("aria-pressed") === "true"; });
    thumbs[(current + 1) % thumbs.length].click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    const key = event.key.toLowerCase();
    if (key === "v" || key === " ") {
      event.preventDefault();
      const el = page();
      const at = VIEWS.findIndex(function (v) { return v[0] === (el && el.getAttribute("data-view")); });
      show(at + 1);
    } else if (key === "h") {
      nextHead();
    }
  });
})();
