// Shared by the run page's canvas scripts: reading data attributes, the run's step series
// (loaded whole from #run-series, then grown by the deltas the socket swaps into
// #run-series-delta), sizing a canvas for the screen, and redrawing after htmx swaps.
(function () {
  "use strict";

  // Dense by step: index step - 1. A delta that repeats steps just overwrites them.
  const series = { step: [], loss: [], lr: [], grad_norms: {}, update_norms: {} };
  // the evaluation points (validation loss, the probe's loss per position): loaded whole
  // from #run-evals, then grown by the new points the socket swaps into #run-evals-delta
  let evals = { step: [], val_loss: [] };
  let heatmap = { steps: [], losses: [], chars: [] };
  const drawers = [];
  const ingested = new WeakSet();
  let frame = null;

  function json(el, name, fallback) {
    const raw = el && el.getAttribute("data-" + name);
    if (!raw) return fallback;
    try {
      return JSON.parse(raw);
    } catch (error) {
      console.error("bad data-" + name, error);
      return fallback;
    }
  }

  function number(el, name) {
    const raw = el && el.getAttribute("data-" + name);
    if (raw === null || raw === undefined || raw === "") return null;
    const value = Number(raw);
    return Number.isFinite(value) ? value : null;
  }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // A canvas font size that follows the page's (larger on a projector): `em` root ems in px.
  // A page may scale its charts' text with --chart-text-scale (the projector page does).
  function fontPx(em) {
    const root = getComputedStyle(document.documentElement);
    const scale = parseFloat(root.getPropertyValue("--chart-text-scale")) || 1;
    return Math.round(em * scale * parseFloat(root.fontSize)) + "px";
  }

  function merge(data) {
    if (!data || !data.step) return;
    data.step.forEach(function (step, i) {
      const at = step - 1;
      series.step[at] = step;
      series.loss[at] = data.loss[i];
      series.lr[at] = data.lr[i];
      ["grad_norms", "update_norms"].forEach(function (kind) {
        Object.entries(data[kind] || {}).forEach(function ([group, values]) {
          (series[kind][group] = series[kind][group] || [])[at] = values[i];
        });
      });
    });
  }

  // New evaluation points from a push: added in step order (a repeated step overwrites).
  function mergeEvals(newEvals, newHeatmap) {
    if (newEvals && newEvals.step) {
      newEvals.step.forEach(function (step, i) {
        let at = evals.step.indexOf(step);
        if (at < 0) at = evals.step.length;
        evals.step[at] = step;
        evals.val_loss[at] = newEvals.val_loss[i];
      });
    }
    if (newHeatmap && newHeatmap.steps) {
      newHeatmap.steps.forEach(function (step, i) {
        let at = heatmap.steps.indexOf(step);
        if (at < 0) at = heatmap.steps.length;
        heatmap.steps[at] = step;
        heatmap.losses[at] = newHeatmap.losses[i];
      });
      // the probe line's characters are known once the run has started
      if (newHeatmap.chars && newHeatmap.chars.length) heatmap.chars = newHeatmap.chars;
      if (newHeatmap.uniform !== undefined) heatmap.uniform = newHeatmap.uniform;
    }
  }

  function reset(data) {
    series.step = [];
    series.loss = [];
    series.lr = [];
    series.grad_norms = {};
    series.update_norms = {};
    merge(data);
  }

  // Read whatever series element is new since last time (a full one resets, a delta merges).
  function ingest() {
    const full = document.getElementById("run-series");
    if (full && !ingested.has(full)) {
      ingested.add(full);
      reset(json(full, "series", null));
    }
    const learning = document.getElementById("run-evals");
    if (learning && !ingested.has(learning)) {
      ingested.add(learning);
      evals = json(learning, "evals", evals);
      heatmap = json(learning, "heatmap", heatmap);
    }
    const evalsDelta = document.getElementById("run-evals-delta");
    if (evalsDelta && !ingested.has(evalsDelta)) {
      ingested.add(evalsDelta);
      mergeEvals(json(evalsDelta, "evals", null), json(evalsDelta, "heatmap", null));
    }
    const delta = document.getElementById("run-series-delta");
    if (delta && !ingested.has(delta)) {
      ingested.add(delta);
      merge(json(delta, "series", null));
    }
  }

  function stepCount() {
    return series.step.filter(function (s) { return s !== undefined; }).length;
  }

  // Size the canvas's backing store to its CSS box and the screen's pixel ratio.
  function fitCanvas(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { ctx: ctx, width: width, height: height };
  }

  function drawAll() {
    frame = null;
    drawers.forEach(function (draw) {
      try {
        draw();
      } catch (error) {
        console.error(error);
      }
    });
  }

  function schedule() {
    ingest(); // at once: the next delta may replace this one before the frame
    if (frame === null) frame = requestAnimationFrame(drawAll);
  }

  ["htmx:afterSwap", "htmx:oobAfterSwap", "htmx:afterSettle", "htmx:load"].forEach(function (name) {
    document.addEventListener(name, schedule);
  });
  let resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(schedule, 100);
  });

  window.LabData = {
    series: series,
    evals: function () { return evals; },
    heatmap: function () { return heatmap; },
    // Replay: draw the curves only up to this step (null: everything stored).
    upto: null,
    redraw: schedule,
    json: json,
    number: number,
    css: css,
    fontPx: fontPx,
    fitCanvas: fitCanvas,
    stepCount: stepCount,
    // Register a function that (re)draws from the DOM and the series; runs now and after swaps.
    onDraw: function (draw) {
      drawers.push(draw);
      schedule();
    },
  };
})();
