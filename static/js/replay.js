// "Replay training": plays the run back from what is stored, moving the step scrubber
// through every stored point in about 10, 30 or 60 seconds. The probe's predictions and
// attention follow (each step's panels come from the server, as when scrubbing by hand),
// and the loss curves and the probe heatmap are drawn only up to the replayed step.
// Pausable; on a live run it plays what is stored so far.
(function () {
  "use strict";

  let timer = null;
  let index = 0;

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

  function show(i) {
    const input = range();
    input.value = String(i);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    LabData.upto = stepAt(i);
    LabData.redraw();
  }

  function stop(message) {
    clearInterval(timer);
    timer = null;
    const p = parts();
    if (!p) return;
    p.play.textContent = "▶ Replay training";
    p.play.setAttribute("aria-pressed", "false");
    p.state.textContent = message || "";
  }

  function tick() {
    const input = range();
    const p = parts();
    if (!input || !p) return stop();
    const last = Number(input.max);
    if (index > last) {
      LabData.upto = null;
      LabData.redraw();
      return stop("Replay done: step " + stepAt(last) + ".");
    }
    show(index);
    p.state.textContent = "step " + stepAt(index) + " of " + stepAt(last);
    index += 1;
  }

  function start() {
    const input = range();
    const p = parts();
    if (!input || !p) return;
    const last = Number(input.max);
    if (index > last || index === 0) index = 0;
    const seconds = Number(p.speed.value) || 30;
    p.play.textContent = "❚❚ Pause";
    p.play.setAttribute("aria-pressed", "true");
    tick();
    timer = setInterval(tick, (1000 * seconds) / (last + 1));
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest(".replay-play")) return;
    if (timer === null) {
      start();
    } else {
      stop("Paused at step " + stepAt(index - 1) + ".");
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
