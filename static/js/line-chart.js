// A small line chart on a canvas: axes with ticks over steps 0..xMax, linear or log y,
// lines with holes (undefined values break the line), and labelled horizontal guides.
(function () {
  "use strict";

  const MARGIN = { left: 3.2, right: 1.3, top: 0.7, bottom: 2.1 }; // in root ems

  // About `count` round tick values covering [lo, hi].
  function niceTicks(lo, hi, count) {
    const span = hi - lo || 1;
    const rough = span / count;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const step = [1, 2, 2.5, 5, 10].map(function (m) { return m * power; })
      .find(function (s) { return span / s <= count; }) || 10 * power;
    // counted in whole steps, so a step too small to move a large value cannot loop for ever
    const ticks = [];
    const first = Math.ceil(lo / step);
    const last = Math.floor(hi / step + 1e-9);
    if (!Number.isFinite(first) || !Number.isFinite(last)) return ticks;
    for (let k = first; k <= last && ticks.length <= 2 * count + 2; k++) ticks.push(k * step);
    return ticks;
  }

  function format(value) {
    if (value === 0) return "0";
    const abs = Math.abs(value);
    if (abs >= 1e4 || abs < 1e-3) return value.toExponential(0).replace("e+", "e");
    return String(Number(value.toPrecision(3)));
  }

  function extent(lines) {
    let lo = Infinity;
    let hi = -Infinity;
    lines.forEach(function (line) {
      line.values.forEach(function (v) {
        if (v === undefined || v === null || !Number.isFinite(v)) return;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      });
    });
    return [lo, hi];
  }

  // options: { xMax, lines: [{values, steps, color, width, dash, alpha}], log, yMin, yMax,
  //            guides: [{y, label, color, dash}], empty, xLabel }
  // A line's values sit at steps 1, 2, … unless it gives their `steps`. Each line gets
  // `drawn`: the pixel points it was drawn through (for hit testing).
  // Returns the number of points of the first line that were drawn.
  function draw(canvas, options) {
    const box = LabData.fitCanvas(canvas);
    const ctx = box.ctx;
    const muted = LabData.css("--muted") || "#5f6b78";
    const line = LabData.css("--line") || "#e3e0d8";
    const em = parseFloat(LabData.fontPx(1));
    const left = MARGIN.left * em;
    const right = box.width - MARGIN.right * em;
    const top = MARGIN.top * em;
    const bottom = box.height - MARGIN.bottom * em;
    ctx.font = LabData.fontPx(0.7) + " system-ui, sans-serif";

    const lines = options.lines.filter(function (l) { return l.values.length; });
    let [lo, hi] = extent(lines);
    (options.guides || []).forEach(function (g) {
      lo = Math.min(lo, g.y);
      hi = Math.max(hi, g.y);
    });
    const points = options.lines.length
      ? options.lines[0].values.filter(function (v) { return v !== undefined && v !== null; }).length
      : 0;
    if (!Number.isFinite(lo)) {
      ctx.fillStyle = muted;
      ctx.textAlign = "center";
      ctx.font = "italic " + LabData.fontPx(0.85) + " system-ui, sans-serif";
      ctx.fillText(options.empty || "waiting for the first step…", box.width / 2, box.height / 2);
      return 0;
    }

    const log = Boolean(options.log) && lo > 0;
    let y0;
    let y1;
    if (log) {
      y0 = Math.pow(10, Math.floor(Math.log10(lo)));
      y1 = Math.pow(10, Math.ceil(Math.log10(hi)));
      if (y0 === y1) y1 = y0 * 10;
    } else {
      y0 = options.yMin !== undefined ? options.yMin : lo;
      y1 = options.yMax !== undefined ? options.yMax : hi + (hi - y0) * 0.06;
      if (y1 <= y0) y1 = y0 + 1;
    }
    const xMax = Math.max(options.xMax || 1, 1);
    const x = function (step) { return left + (step / xMax) * (right - left); };
    const y = log
      ? function (v) { return bottom - ((Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * (bottom - top); }
      : function (v) { return bottom - ((v - y0) / (y1 - y0)) * (bottom - top); };
    // the plot's box and y range, for callers that mark things on it (the class overlay)
    canvas._plot = { left: left, right: right, top: top, bottom: bottom, y0: y0, y1: y1, log: log };

    // grid and ticks
    ctx.strokeStyle = line;
    ctx.lineWidth = 1;
    ctx.fillStyle = muted;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const yTicks = log ? decades(y0, y1) : niceTicks(y0, y1, 5);
    yTicks.forEach(function (t) {
      const py = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, py);
      ctx.lineTo(right, py);
      ctx.stroke();
      ctx.fillText(format(t), left - 6, py);
    });
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    niceTicks(0, xMax, Math.max(2, Math.floor((right - left) / 90))).forEach(function (t) {
      const px = Math.round(x(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(px, bottom);
      ctx.lineTo(px, bottom + 4);
      ctx.stroke();
      ctx.fillText(format(t), px, bottom + 6);
    });
    ctx.strokeStyle = muted;
    ctx.beginPath();
    ctx.moveTo(left + 0.5, top);
    ctx.lineTo(left + 0.5, bottom + 0.5);
    ctx.lineTo(right, bottom + 0.5);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(options.xLabel || "step", (left + right) / 2, bottom + 1.2 * em);

    // guides (e.g. the random-guess baseline)
    (options.guides || []).forEach(function (g) {
      const py = y(g.y);
      ctx.save();
      ctx.strokeStyle = g.color || muted;
      ctx.setLineDash(g.dash || [6, 4]);
      ctx.beginPath();
      ctx.moveTo(left, py);
      ctx.lineTo(right, py);
      ctx.stroke();
      ctx.restore();
      if (g.label) {
        ctx.fillStyle = g.color || muted;
        ctx.textAlign = "right";
        ctx.textBaseline = "bottom";
        ctx.fillText(g.label, right - 4, py - 3);
      }
    });

    // the lines, clipped to the plot
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - 2, right - left, bottom - top + 4);
    ctx.clip();
    lines.forEach(function (l) {
      ctx.strokeStyle = l.color;
      ctx.globalAlpha = l.alpha || 1;
      ctx.lineWidth = l.width || 1.5;
      ctx.lineJoin = "round";
      ctx.setLineDash(l.dash || []);
      ctx.beginPath();
      l.drawn = [];
      let pen = false;
      l.values.forEach(function (v, i) {
        if (v === undefined || v === null || !Number.isFinite(v) || (log && v <= 0)) {
          pen = false;
          return;
        }
        const px = x(l.steps ? l.steps[i] : i + 1);
        const py = y(v);
        if (pen) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        l.drawn.push([px, py]);
        pen = true;
      });
      ctx.stroke();
    });
    ctx.restore();
    return points;
  }

  function decades(y0, y1) {
    const ticks = [];
    for (let e = Math.round(Math.log10(y0)); e <= Math.round(Math.log10(y1)); e++) {
      ticks.push(Math.pow(10, e));
    }
    return ticks;
  }

  window.LabChart = { draw: draw, niceTicks: niceTicks, format: format };
})();
