// The loss curve: every step's training loss (faint), its running average, the validation
// loss at the evaluation points, and the uniform-guess line ln(vocab size) (from the status
// line's data), over the whole run's steps; during a replay only up to the replayed step.
(function () {
  "use strict";

  function runningAverage(values, weight) {
    const out = [];
    let average = null;
    values.forEach(function (v, i) {
      if (v === undefined || v === null) return;
      average = average === null ? v : weight * average + (1 - weight) * v;
      out[i] = average;
    });
    return out;
  }

  LabData.onDraw(function () {
    const canvas = document.getElementById("loss-canvas");
    if (!canvas) return;
    const upto = LabData.upto;
    const loss = upto === null ? LabData.series.loss : LabData.series.loss.slice(0, upto);
    const evals = LabData.evals();
    const shown = evals.step.filter(function (s) { return upto === null || s <= upto; }).length;
    const status = document.getElementById("run-status"); // pushed: known once the run starts
    const baseline = LabData.number(status, "baseline");
    const vocabSize = LabData.number(status, "vocab-size");
    const accent = LabData.css("--accent") || "#2f6fdb";
    const guides = baseline === null ? [] : [{
      y: baseline,
      label: "uniform guess: ln " + vocabSize + " = " + baseline.toFixed(2),
      color: LabData.css("--warn") || "#b7791f",
    }];
    const points = LabChart.draw(canvas, {
      xMax: LabData.number(canvas, "num-steps"),
      yMin: 0,
      lines: [
        { values: loss, color: accent, width: 1, alpha: 0.35 },
        { values: runningAverage(loss, 0.95), color: accent, width: 2.2 },
        { values: evals.val_loss.slice(0, shown), steps: evals.step.slice(0, shown),
          color: LabData.css("--val") || "#d9480f", width: 2, dash: [2, 3] },
      ],
      guides: guides,
      empty: "waiting for the first step…",
    });
    canvas.setAttribute("data-points", String(points));
    markFork(canvas, LabData.number(canvas, "fork-step"), LabData.number(canvas, "num-steps"));
  });

  // A fork's page: a dotted line where its parent's steps (copied) end and its own begin.
  function markFork(canvas, step, numSteps) {
    const plot = canvas._plot;
    if (step === null || !plot || !numSteps) return;
    const x = plot.left + (step / numSteps) * (plot.right - plot.left);
    const ctx = canvas.getContext("2d");
    ctx.save();
    ctx.strokeStyle = LabData.css("--muted") || "#666";
    ctx.fillStyle = ctx.strokeStyle;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(x, plot.top);
    ctx.lineTo(x, plot.bottom);
    ctx.stroke();
    ctx.font = LabData.fontPx(0.75) + " system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = x > (plot.left + plot.right) / 2 ? "right" : "left";
    ctx.fillText("fork: its own steps →", x + (ctx.textAlign === "right" ? -4 : 4), plot.top + 2);
    ctx.restore();
    canvas.setAttribute("data-fork-marked", String(step));
  }
})();
