// "Replay training": plays the run back from what is stored, moving the step scrubber
// through every stored point in about 10, 30 or 60 seconds. The probe's predictions and
// attention follow (each step's panels come from the server, as when scrubbing by hand),
// and the loss curves and the probe heatmap are drawn only up to the replayed step.
// Pausable; on a live run it plays what is stored so far.
(function () {
  "use strict";

  let timer = null; // set while playing
  let index = 0; // the next point to show
  let shown = null; // the step whose panels are on the page

  function parts() {
    const root = document.getElementById("run-replay");
    return root && {
      play: root.querySelector(".replay-play"),
      speed: root.querySelector(".replay-speed"),
      state: root.querySelector(".replay-state"),
    };
  }

  function range() {
    return document.getElementById("scrub-range");
  }

  function stepAt(i) {
    const option = document.querySelectorAll("#scrub-ticks option")[i];
    return option ? Number(option.getAttribute("label")) : null;
  }

  // Show stored point i: the scrubber moves there and its step's panels are fetched as when
  // scrubbing by hand (the page keeps the selected position and view; see run-live.js).
  function show(i) {
    const input = range();
    const form = document.getElementById("run-scrubber");
    input.value = String(i);
    document.getElementById("run-snapshot-view").setAttribute("data-following", "false");
    LabData.upto = stepAt(i);
    LabData.redraw();
    const swapped = new Promise(function (resolve) {
      const done = function (event) {
        if (event.detail.target && event.detail.target.id !== "run-snapshot-view") return;
        document.removeEventListener("htmx:afterSettle", done);
        resolve();
      };
      document.addEventListener("htmx:afterSettle", done);
      setTimeout(resolve, 3000); // an answer lost is no reason to stop the replay
    });
    htmx.ajax("GET", form.getAttribute("hx-get") + "?i=" + i, {
      source: form, target: "#run-snapshot-view", swap: "outerHTML",
    });
    return swapped;
  }

  function stop(message) {
    if (timer !== null && timer !== true) clearTimeout(timer);
    timer = null;
    const p = parts();
    if (!p) return;
    p.play.textContent = "▶ Replay training";
    p.play.setAttribute("aria-pressed", "false");
    p.state.textContent = message || "";
  }

  // Show the next point, then wait for its panels and the rest of its time slot, so the
  // replay is never ahead of what the page shows (a slow answer slows it down instead).
  function tick(every) {
    const input = range();
    const p = parts();
    if (!input || !p || timer === null) return;
    const last = Number(input.max);
    if (index > last) {
      LabData.upto = null;
      LabData.redraw();
      return stop("Replay done: step " + stepAt(last) + ".");
    }
    const began = Date.now();
    const i = index;
    p.state.textContent = "step " + stepAt(i) + " of " + stepAt(last);
    index += 1;
    show(i).then(function () {
      shown = stepAt(i);
      if (timer !== null) {
        timer = setTimeout(tick, Math.max(0, every - (Date.now() - began)), every);
      } else if (p.state.textContent.startsWith("Paused")) {
        p.state.textContent = "Paused at step " + shown + "."; // the step in flight arrived
      }
    });
  }

  function start() {
    const input = range();
    const p = parts();
    if (!input || !p) return;
    const last = Number(input.max);
    if (index > last) index = 0;
    const seconds = Number(p.speed.value) || 30;
    p.play.textContent = "❚❚ Pause";
    p.play.setAttribute("aria-pressed", "true");
    timer = true;
    tick((1000 * seconds) / (last + 1));
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest(".replay-play")) return;
    if (timer === null) {
      start();
    } else {
      stop("Paused at step " + (shown === null ? stepAt(index - 1) : shown) + ".");
    }
  });

  // Scrubbing by hand during a pause continues the replay from there.
  document.addEventListener("input", function (event) {
    if (event.target.id === "scrub-range" && timer === null && event.isTrusted) {
      index = Number(event.target.value);
      if (LabData.upto !== null) {
        LabData.upto = stepAt(index);
        LabData.redraw();
      }
    }
  });
})();
