// The class overlay: every student's loss curve on one canvas, with the random-guess
// baseline(s) ln(vocab size). Clicking near a curve opens that run.
// Data: the JSON <script> named by the canvas's data-overlay-source:
//   {curves: [{run, label, colour, url, steps: [...] (or stride, last), loss: [...], flag,
//              diverged, pack, private, dash}], baselines: [{value, label}]}
// Controls (outside the live-swapped part, so they survive pushes), kept per page in
// sessionStorage: [data-overlay-log] log scale; [data-overlay-group] colour and list the
// curves by pack; a legend checkbox [data-overlay-toggle=<run>] hides or shows one curve.
// On the linear scale the y axis fits the curves that did not diverge: a diverged curve
// is drawn up to the top edge and marked there with its loss, so one run at 6e5 no longer
// flattens everyone else's at zero.
// Drawn by the run page's LabChart (axes, guides, lines); LabData redraws after htmx swaps.
(function () {
  "use strict";

  const HIT_PX = 8;
  const SMOOTHING = 0.6; // running average over the (thinned) points: trends, not noise
  const HEADROOM = 1.15; // linear scale: top = 1.15 × the highest non-diverged value
  const key = "overlay:" + window.location.pathname;
  const state = Object.assign(
    { log: false, group: false, hidden: [] },
    JSON.parse(sessionStorage.getItem(key) || "{}"),
  );

  function save() {
    sessionStorage.setItem(key, JSON.stringify(state));
  }

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

  // One colour per pack (hues a golden angle apart, like the students' colours).
  function packColours(curves) {
    const packs = Array.from(new Set(curves.map(function (c) { return c.pack; }))).sort();
    const colours = {};
    packs.forEach(function (pack, i) {
      colours[pack] = "hsl(" + Math.round((i * 137.508 + 200) % 360) + ", 70%, 40%)";
    });
    return colours;
  }

  function finiteMax(values) {
    let hi = -Infinity;
    values.forEach(function (v) { if (Number.isFinite(v) && v > hi) hi = v; });
    return hi;
  }

  function draw(canvas) {
    const data = overlayData(canvas);
    const hidden = new Set(state.hidden.map(String));
    const byPack = packColours(data.curves);
    data.curves.forEach(function (c) { c.steps = stepsOf(c); });
    const shown = data.curves.filter(function (c) { return !hidden.has(String(c.run)); });
    const warn = LabData.css("--warn") || "#b7791f";
    const bad = LabData.css("--bad") || "#c0392b";
    let xMax = 1;
    shown.forEach(function (c) {
      c.steps.forEach(function (s) { if (s > xMax) xMax = s; });
    });
    const lines = shown.map(function (c) {
      return {
        curve: c,
        values: smoothed(c.loss),
        steps: c.steps,
        color: state.group ? byPack[c.pack] : c.colour,
        width: c.flag ? 3 : 2,
        dash: c.diverged ? [8, 4] : c.dash ? [5, 4] : [],
      };
    });
    let yMax;
    if (!state.log) {
      const calm = lines.filter(function (l) { return !l.curve.diverged; });
      let hi = finiteMax([].concat.apply(
        data.baselines.map(function (b) { return b.value; }),
        calm.map(function (l) { return l.values; }),
      ));
      if (Number.isFinite(hi) && calm.length < lines.length) yMax = hi * HEADROOM;
    }
    LabChart.draw(canvas, {
      xMax: xMax,
      yMin: state.log ? undefined : 0,
      yMax: yMax,
      log: state.log,
      lines: lines,
      guides: data.baselines.map(function (b) {
        return { y: b.value, label: b.label + " = " + b.value.toFixed(2), color: warn };
      }),
      empty: data.curves.length ? "every curve is hidden: tick one in the list below" : "no curves yet: waiting for the first steps…",
    });
    const clipped = markClipped(canvas, lines, bad);
    canvas._hits = lines.map(function (l) { return { curve: l.curve, points: l.drawn || [] }; });
    canvas.setAttribute("data-curves", String(data.curves.length));
    canvas.setAttribute("data-shown", String(shown.length));
    canvas.setAttribute("data-clipped", String(clipped));
    canvas.setAttribute("data-scale", state.log ? "log" : "linear");
    canvas.setAttribute("data-ymax", canvas._plot ? String(canvas._plot.y1) : "");
  }

  // A ▲ and the curve's newest loss where a diverged curve leaves the top of the plot.
  function markClipped(canvas, lines, colour) {
    const plot = canvas._plot;
    if (!plot) return 0;
    const ctx = canvas.getContext("2d");
    let count = 0;
    ctx.save();
    ctx.fillStyle = colour;
    ctx.font = "bold " + LabData.fontPx(0.75) + " system-ui, sans-serif";
    ctx.textBaseline = "top";
    lines.forEach(function (l) {
      const above = (l.drawn || []).find(function (p) { return p[1] < plot.top; });
      if (!above) return;
      count += 1;
      const x = Math.max(plot.left + 8, Math.min(plot.right - 8, above[0]));
      ctx.beginPath();
      ctx.moveTo(x, plot.top - 1);
      ctx.lineTo(x - 6, plot.top + 9);
      ctx.lineTo(x + 6, plot.top + 9);
      ctx.closePath();
      ctx.fill();
      const last = finiteMax(l.curve.loss.slice(-1));
      const text = "diverged" + (Number.isFinite(last) ? " (loss " + LabChart.format(last) + ")" : "");
      ctx.textAlign = x > (plot.left + plot.right) / 2 ? "right" : "left";
      ctx.fillText(text, x + (ctx.textAlign === "right" ? -10 : 10), plot.top + 2);
    });
    ctx.restore();
    return count;
  }

  // The legend follows the controls: checkboxes match the hidden set; grouped by pack,
  // its items are sorted by pack under a heading each.
  function syncLegend() {
    const hidden = new Set(state.hidden.map(String));
    document.querySelectorAll("[data-overlay-toggle]").forEach(function (box) {
      box.checked = !hidden.has(box.getAttribute("data-overlay-toggle"));
    });
    document.querySelectorAll("[data-overlay-log]").forEach(function (box) { box.checked = state.log; });
    document.querySelectorAll("[data-overlay-group]").forEach(function (box) { box.checked = state.group; });
    document.querySelectorAll("ul.legend[data-legend]").forEach(function (list) {
      list.querySelectorAll("li.legend-group").forEach(function (li) { li.remove(); });
      const items = Array.from(list.querySelectorAll("li[data-pack]"));
      if (state.group) {
        items.sort(function (a, b) {
          return a.dataset.pack.localeCompare(b.dataset.pack) || a.dataset.order - b.dataset.order;
        });
      } else {
        items.sort(function (a, b) { return a.dataset.order - b.dataset.order; });
      }
      const colours = packColours(items.map(function (li) { return { pack: li.dataset.pack }; }));
      let pack = null;
      items.forEach(function (li) {
        const swatch = li.querySelector(".swatch");
        if (swatch) {
          if (!swatch.dataset.colour) swatch.dataset.colour = swatch.style.background;
          swatch.style.background = state.group ? colours[li.dataset.pack] : swatch.dataset.colour;
        }
        if (state.group && li.dataset.pack !== pack) {
          pack = li.dataset.pack;
          const heading = document.createElement("li");
          heading.className = "legend-group";
          heading.textContent = pack;
          list.appendChild(heading);
        }
        list.appendChild(li);
      });
      list.classList.toggle("grouped", state.group);
    });
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

  function redraw() {
    save();
    syncLegend();
    document.querySelectorAll("canvas[data-overlay-source]").forEach(draw);
  }

  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.matches("[data-overlay-log]")) state.log = el.checked;
    else if (el.matches("[data-overlay-group]")) state.group = el.checked;
    else if (el.matches("[data-overlay-toggle]")) {
      const run = el.getAttribute("data-overlay-toggle");
      state.hidden = state.hidden.map(String).filter(function (r) { return r !== run; });
      if (!el.checked) state.hidden.push(run);
    } else return;
    redraw();
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("[data-overlay-show-all]")) {
      state.hidden = [];
      redraw();
      return;
    }
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
    syncLegend();
    document.querySelectorAll("canvas[data-overlay-source]").forEach(draw);
  });
})();
