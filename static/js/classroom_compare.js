// The "Compare" boxes of the panel (two runs) and of My runs (2 to 6): checkboxes
// (name="run", form="compare-form") submitted by a plain GET form whose data-compare-max
// says how many may be ticked (2 when absent). This script only enables the Compare button
// when 2 to that many are ticked and keeps at most that many ticked (ticking one more
// unticks the one ticked longest ago). The ticks survive the roster's websocket pushes
// because the checkboxes carry hx-preserve; this recounts after every swap.
(function () {
  "use strict";

  let order = 0; // when each box was ticked (data-ticked), to untick the oldest

  function boxes() {
    const form = document.getElementById("compare-form");
    return form ? Array.from(form.elements).filter((el) => el.name === "run") : [];
  }

  function most() {
    const form = document.getElementById("compare-form");
    return Number((form && form.dataset.compareMax) || 2);
  }

  function update() {
    const button = document.getElementById("compare-button");
    const status = document.getElementById("compare-status");
    if (!button || !status) return;
    if (status.dataset.empty === undefined) status.dataset.empty = status.textContent;
    const ticked = boxes().filter((box) => box.checked);
    button.disabled = ticked.length < 2 || ticked.length > most();
    if (ticked.length >= 2) {
      const ids = ticked.map((box) => box.value).sort((x, y) => x - y);
      status.textContent = ids.length === 2
        ? `Run ${ids[0]} and run ${ids[1]} are ticked.`
        : `Runs ${ids.slice(0, -1).join(", ")} and ${ids[ids.length - 1]} are ticked.`;
    } else if (ticked.length === 1) {
      status.textContent = `Run ${ticked[0].value} is ticked: tick one more run.`;
    } else {
      status.textContent = status.dataset.empty;
    }
  }

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== "run" || box.form?.id !== "compare-form")
      return;
    if (box.checked) {
      box.dataset.ticked = String(++order);
      const others = boxes().filter((b) => b.checked && b !== box);
      if (others.length >= most()) {
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
