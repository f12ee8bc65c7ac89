// The probe line's loss at each position (rows) over the evaluation steps (columns): red is
// a surprise (high loss, up to the uniform guess and beyond), pale a confident right guess.
// The column of the step shown above is outlined; hover a cell to read it.
(function () {
  "use strict";

  const RED = [194, 55, 45];

  function geometry(canvas, data) {
    const labelWidth = parseFloat(LabData.fontPx(2.2));
    const rows = data.chars.length;
    const cols = data.steps.length;
    const width = canvas.clientWidth - labelWidth;
    return { labelWidth: labelWidth, rows: rows, cols: cols,
      cellW: cols ? width / cols : 0, cellH: rows ? Math.max(6, Math.min(18, 240 / rows)) : 0 };
  }

  function currentStep() {
    const view = document.getElementById("run-snapshot-view");
    return view && view.getAttribute("data-view") === "probe" ? Number(view.getAttribute("data-step")) : null;
  }

  function draw() {
    const canvas = document.getElementById("probe-heatmap");
    if (!canvas) return;
    const data = LabData.heatmap();
    const g = geometry(canvas, data);
    canvas.style.height = (g.rows * g.cellH + 2) + "px";
    const box = LabData.fitCanvas(canvas);
    const ctx = box.ctx;
    canvas.closest("figure").hidden = !g.rows || !g.cols;
    if (!g.rows || !g.cols) return;
    const top = data.uniform || 1;
    const upto = LabData.upto;
    ctx.font = LabData.fontPx(0.7) + " ui-monospace, monospace";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillStyle = LabData.css("--muted") || "#5f6b78";
    data.chars.forEach(function (ch, row) {
      if (g.cellH >= 9) ctx.fillText(ch, g.labelWidth - 4, row * g.cellH + g.cellH / 2);
    });
    data.steps.forEach(function (step, col) {
      if (upto !== null && step > upto) return;
      (data.losses[col] || []).forEach(function (loss, row) {
        const v = loss === null ? 1 : Math.min(1, loss / top);
        ctx.fillStyle = "rgba(" + RED.join(",") + "," + (0.05 + 0.95 * v).toFixed(3) + ")";
        ctx.fillRect(g.labelWidth + col * g.cellW, row * g.cellH, Math.ceil(g.cellW), Math.ceil(g.cellH));
      });
    });
    const step = currentStep();
    const col = data.steps.indexOf(step);
    if (col >= 0) {
      ctx.strokeStyle = LabData.css("--accent") || "#2f6fdb";
      ctx.lineWidth = 2;
      ctx.strokeRect(g.labelWidth + col * g.cellW + 1, 1, Math.max(2, g.cellW - 2), g.rows * g.cellH);
    }
  }

  document.addEventListener("mousemove", function (event) {
    const canvas = event.target.closest && event.target.closest("#probe-heatmap");
    if (!canvas) return;
    const data = LabData.heatmap();
    const g = geometry(canvas, data);
    const rect = canvas.getBoundingClientRect();
    const col = Math.floor((event.clientX - rect.left - g.labelWidth) / g.cellW);
    const row = Math.floor((event.clientY - rect.top) / g.cellH);
    const readout = canvas.parentElement.querySelector(".probe-heatmap-readout");
    if (col < 0 || row < 0 || col >= g.cols || row >= g.rows) return;
    const loss = (data.losses[col] || [])[row];
    readout.textContent = "step " + data.steps[col] + ", position " + row + " (after " + data.chars[row] +
      "): loss " + (loss === null || loss === undefined ? "–" : loss.toFixed(2));
  });

  LabData.onDraw(draw);
})();
