// The class overlay: every student's loss curve on one canvas, coloured per student, with
// the random-guess baseline(s) ln(vocab size). Clicking near a curve opens that run.
// Data: the JSON <script> named by the canvas's data-overlay-source:
//   {curves: [{run, label, colour, url, steps: [...] (or stride, last), loss: [...], flag, dash}],
//    baselines: [{value, label}]}   (flag: why it looks divergent; dash: draw dashed)
// Drawn by the run page's LabChart (axes, guides, lines); LabData redraws after htmx swaps.
(function () {
  "use strict";

  const HIT_PX = 8;
  const SMOOTHING = 0.6; // running average over the (thinned) points: trends, not noise

  function smoothed(values) {
    let average = null;
    return values.map(function (v) {
      if (!Number.isFinite(v)) return v;
      average = average === null ? v : SMOOTHING * average + (1 - SMOOTHING) * v;
      return average;
    });
  }

  function overlayData(canvas) {
    const source = document.getElementById(canvas.getAttribute("data-overlay-source"));
    if (!source) return { curves: [], baselines: [] };
    try {
      return JSON.parse(source.textContent);
    } catch (error) {
      console.error("bad overlay data", error);
      return { curves: [], baselines: [] };
    }
  }

  // A curve's steps: listed, or {stride, last} for 1, stride, 2·stride, …, last
  // (classrooms/panel.py compact_steps).
  function stepsOf(curve) {
    if (curve.steps) return curve.steps;
    const out = [1];
    for (let s = curve.stride; s <= curve.last; s += curve.stride) if (s > 1) out.push(s);
    if (out[out.length - 1] !== curve.last) out.push(curve.last);
    return out;
  }

  function draw(canvas) {
    const data = overlayData(canvas);
    data.curves.forEach(function (c) { c.steps = stepsOf(c); });
    const warn = LabData.css("--warn") || "#b7791f";
    let xMax = 1;
    data.curves.forEach(function (c) {
      c.steps.forEach(function (s) { if (s > xMax) xMax = s; });
    });
    const lines = data.curves.map(function (c) {
      return {
        curve: c,
        values: smoothed(c.loss),
        steps: c.steps,
        color: c.colour,
        width: c.flag ? 3 : 2,
        dash: c.flag ? [8, 4] : c.dash ? [5, 4] : [],
      };
    });
    LabChart.draw(canvas, {
      xMax: xMax,
      yMin: 0,
      lines: lines,
      guides: data.baselines.map(function (b) {
        return { y: b.value, label: b.label + " = " + b.value.toFixed(2), color: warn };
      }),
      empty: "no curves yet: waiting for the first steps…",
    });
    canvas._hits = lines.map(function (l) { return { curve: l.curve, points: l.drawn || [] }; });
    canvas.setAttribute("data-curves", String(data.curves.length));
  }

  // The curve nearest to (px, py) within HIT_PX, by distance to its segments.
  function nearest(canvas, px, py) {
    let best = null;
    let bestDistance = HIT_PX;
    (canvas._hits || []).forEach(function (hit) {
      const p = hit.points;
      for (let i = 0; i < p.length; i++) {
        const a = p[i];
        const b = p[i + 1] || a;
        const dx = b[0] - a[0];
        const dy = b[1] - a[1];
        const length2 = dx * dx + dy * dy;
        const t = length2 ? Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / length2)) : 0;
        const d = Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
        if (d < bestDistance) {
          bestDistance = d;
          best = hit.curve;
        }
      }
    });
    return best;
  }

  function at(event) {
    const canvas = event.target;
    const rect = canvas.getBoundingClientRect();
    return nearest(canvas, event.clientX - rect.left, event.clientY - rect.top);
  }

  document.addEventListener("click", function (event) {
    if (!event.target.matches || !event.target.matches("canvas[data-overlay-source]")) return;
    const curve = at(event);
    if (curve) window.location.href = curve.url;
  });
  document.addEventListener("mousemove", function (event) {
    if (!event.target.matches || !event.target.matches("canvas[data-overlay-source]")) return;
    const curve = at(event);
    event.target.style.cursor = curve ? "pointer" : "default";
    event.target.title = curve ? curve.label + (curve.flag ? " (" + curve.flag + ")" : "") : "";
  });

  LabData.onDraw(function () {
    document.querySelectorAll("canvas[data-overlay-source]").forEach(draw);
  });
})();
