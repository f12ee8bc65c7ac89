// The panel's "Compare two runs" box: the roster's checkboxes (name="run",
// form="compare-form") are submitted by the plain GET form. This script only enables the
// Compare button when exactly two are ticked and keeps at most two ticked (ticking a third
// unticks the one ticked longest ago). The ticks survive the roster's websocket pushes
// because the checkboxes carry hx-preserve; this recounts after every swap.
(function () {
  "use strict";

  let order = 0; // when each box was ticked (data-ticked), to untick the oldest

  function boxes() {
    const form = document.getElementById("compare-form");
    return form ? Array.from(form.elements).filter((el) => el.name === "run") : [];
  }

  function update() {
    const button = document.getElementById("compare-button");
    const status = document.getElementById("compare-status");
    if (!button || !status) return;
    const ticked = boxes().filter((box) => box.checked);
    button.disabled = ticked.length !== 2;
    if (ticked.length === 2) {
      const ids = ticked.map((box) => box.value).sort((x, y) => x - y);
      status.textContent = `Run ${ids[0]} and run ${ids[1]} are ticked.`;
    } else if (ticked.length === 1) {
      status.textContent = `Run ${ticked[0].value} is ticked: tick one more run.`;
    } else {
      status.textContent =
        "Tick the box beside two runs in the list of students below, then compare them.";
    }
  }

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== "run" || box.form?.id !== "compare-form")
      return;
    if (box.checked) {
      box.dataset.ticked = String(++order);
      const others = boxes().filter((b) => b.checked && b !== box);
      if (others.length >= 2) {
        others.sort((x, y) => Number(x.dataset.ticked || 0) - Number(y.dataset.ticked || 0));
        others[0].checked = false;
      }
    }
    update();
  });

  for (const name of ["htmx:oobAfterSwap", "htmx:afterSwap", "htmx:wsAfterMessage", "pageshow"]) {
    document.addEventListener(name, update);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
