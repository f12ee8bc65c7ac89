// The op view (templates/runs/opview.html): draws the int8 heatmaps, shows numbers on
// hover, applies the backward state (#op-state) to the graph, plays the steps, and
// handles the keyboard. All state changes are htmx requests; this only presents them.
(function () {
  "use strict";

  // --- heatmaps: base64 int8, value = q / 127 * scale, -128 = masked ---------------------
  function decode(canvas) {
    if (canvas._hm) return canvas._hm;
    var raw = atob(canvas.dataset.hm || "");
    var q = new Int8Array(raw.length);
    for (var i = 0; i < raw.length; i++) q[i] = (raw.charCodeAt(i) << 24) >> 24;
    var shape = canvas.dataset.shape.split(" ").map(Number);
    var src = canvas.dataset.src.split(" ").map(Number);
    canvas._hm = {
      q: q, heads: shape[0], rows: shape[1], cols: shape[2],
      srcRows: src[1], srcCols: src[2],
      scale: parseFloat(canvas.dataset.scale) || 0,
      keepLast: canvas.dataset.last === "1",
    };
    return canvas._hm;
  }

  function color(v, grad) {
    // diverging: negative blue, positive red (values) / green-purple (gradients)
    if (v === -128) return "rgb(214,214,214)";
    // gradients by √|g|: a gradient a tenth of the node's largest still shows clearly
    var t = Math.min(1, Math.abs(v) / 127);
    if (grad) t = Math.sqrt(t);
    var hi = grad ? (v >= 0 ? [118, 42, 131] : [27, 120, 55]) : (v >= 0 ? [178, 24, 43] : [33, 102, 172]);
    var r = Math.round(255 + (hi[0] - 255) * t), g = Math.round(255 + (hi[1] - 255) * t),
      b = Math.round(255 + (hi[2] - 255) * t);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  var HEAD_GAP = 6;  // runs/opview/layout.py HEAD_GAP: the edges land on each head's panel

  function draw(canvas) {
    var hm = decode(canvas);
    var w = canvas.clientWidth || canvas.parentNode.getAttribute("width") || 150;
    var h = canvas.clientHeight || canvas.parentNode.getAttribute("height") || 15;
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var grad = canvas.classList.contains("grad");
    var panelW = (w - HEAD_GAP * (hm.heads - 1)) / hm.heads;
    var cw = panelW / hm.cols, ch = h / hm.rows;
    for (var hd = 0; hd < hm.heads; hd++) {
      var x0 = hd * (panelW + HEAD_GAP);
      for (var r = 0; r < hm.rows; r++) {
        for (var c = 0; c < hm.cols; c++) {
          ctx.fillStyle = color(hm.q[(hd * hm.rows + r) * hm.cols + c], grad);
          ctx.fillRect(x0 + c * cw, r * ch, Math.ceil(cw), Math.ceil(ch));
        }
      }
      if (hm.keepLast && hm.rows > 1) {  // the token's own row
        ctx.strokeStyle = "rgba(0,0,0,.55)";
        ctx.lineWidth = 1;
        ctx.strokeRect(x0 + 0.5, (hm.rows - 1) * ch + 0.5, panelW - 1, ch - 1);
      }
    }
    canvas._geom = { w: w, h: h, panelW: panelW, cw: cw, ch: ch };
  }

  function edges(n, bins, keepLast) {
    var out = [];
    if (keepLast && bins < n) {
      for (var i = 0; i < bins - 1; i++) out.push(Math.floor((i * (n - 1)) / (bins - 1)));
      out.push(n - 1);
    } else {
      for (var j = 0; j < bins; j++) out.push(Math.floor((j * n) / bins));
    }
    out.push(n);
    return out;
  }

  function span(e, i) {
    return e[i + 1] - e[i] > 1 ? e[i] + "–" + (e[i + 1] - 1) : String(e[i]);
  }

  function cellAt(canvas, ev) {
    var hm = decode(canvas), g = canvas._geom;
    if (!g) return null;
    var rect = canvas.getBoundingClientRect();
    var x = ((ev.clientX - rect.left) / rect.width) * g.w, y = ((ev.clientY - rect.top) / rect.height) * g.h;
    var hd = Math.min(hm.heads - 1, Math.floor(x / (g.panelW + HEAD_GAP)));
    var c = Math.floor((x - hd * (g.panelW + HEAD_GAP)) / g.cw), r = Math.floor(y / g.ch);
    if (c < 0 || c >= hm.cols || r < 0 || r >= hm.rows) return null;
    var q = hm.q[(hd * hm.rows + r) * hm.cols + c];
    var re = edges(hm.srcRows, hm.rows, hm.keepLast), ce = edges(hm.srcCols, hm.cols, false);
    var rowText = hm.keepLast && r === hm.rows - 1 ? "position " + canvas.dataset.pos + " (this token" +
      (canvas.dataset.only === "1" ? "; every other row is 0)" : ")") : "row " + span(re, r);
    var text = (canvas.dataset.what || "") + " · " + (hm.heads > 1 ? "head " + hd + " · " : "") +
      rowText + " · col " + span(ce, c) + ": ";
    text += q === -128 ? "masked (−∞)" : "≈ " + ((q / 127) * hm.scale).toPrecision(3) +
      (re[r + 1] - re[r] > 1 || ce[c + 1] - ce[c] > 1 ? " (largest in the cell)" : "");
    return text;
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas.hm").forEach(function (c) {
      if (!c._geom) draw(c);
    });
  }

  // --- tooltip ---------------------------------------------------------------------------
  var tip;
  document.addEventListener("mousemove", function (ev) {
    tip = tip || document.getElementById("op-tip");
    if (!tip) return;
    var canvas = ev.target.closest && ev.target.closest("canvas.hm");
    var text = canvas && cellAt(canvas, ev);
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = ev.pageX + 12 + "px";
    tip.style.top = ev.pageY + 14 + "px";
  });

  // --- the backward state ------------------------------------------------------------------
  function applyState() {
    var state = document.getElementById("op-state");
    var graph = document.getElementById("op-graph");
    if (!state || !graph) return;
    var done = {};
    (state.dataset.done || "").split(" ").forEach(function (id) { if (id) done[id] = true; });
    var current = state.dataset.current;
    graph.querySelectorAll(".opnode").forEach(function (g) {
      var id = g.dataset.node, st;
      if (id === current) st = "current";
      else if (done[id]) st = "done";
      else st = g.dataset.bi !== undefined ? "pending" : "none";
      g.classList.remove("st-current", "st-done", "st-pending", "st-none");
      g.classList.add("st-" + st);
    });
    graph.querySelectorAll("path.edge").forEach(function (p) {
      p.classList.toggle("hot", !!done[p.dataset.dst]);
      p.classList.toggle("now", p.dataset.dst === current);
    });
    var moved = graph.dataset.op !== state.dataset.op;
    graph.dataset.op = state.dataset.op;  // the state the graph shows now
    drawAll(graph);
    updateMinimap();
    var node = moved && current && document.getElementById("opnode-" + current);
    if (node) centerInGraph(node);
  }

  function centerInGraph(node) {
    // centre it in the graph's own box; then, only if the box's part that holds it is
    // off screen (the page's title above), scroll the page just enough to show it
    var wrap = node.closest(".op-graph-wrap");
    if (!wrap) return;
    var r = node.getBoundingClientRect(), w = wrap.getBoundingClientRect();
    wrap.scrollTo({
      top: wrap.scrollTop + (r.top - w.top) - (wrap.clientHeight - r.height) / 2,
      left: wrap.scrollLeft + (r.left - w.left) - (wrap.clientWidth - r.width) / 2,
    });
    // one column (a phone): the side panel, above, is what explains the step; leave the page be
    if (window.matchMedia("(max-width: 900px)").matches) return;
    r = node.getBoundingClientRect();
    var bar = document.getElementById("op-controls");
    var top = bar ? bar.getBoundingClientRect().bottom : 0;
    if (r.bottom > window.innerHeight - 8) window.scrollBy(0, r.bottom - window.innerHeight + 16);
    else if (r.top < top) window.scrollBy(0, r.top - top - 16);
  }

  function centerCurrent() {
    var state = document.getElementById("op-state");
    var node = state && state.dataset.current && document.getElementById("opnode-" + state.dataset.current);
    if (node) centerInGraph(node);
  }

  // --- zoom: never below 100 %, where no text in the graph is under 11 px; remembered -------
  var ZOOMS = [1, 1.25, 1.5, 2];

  function zoomIndex() {
    var saved = 0;
    try { saved = Number(window.localStorage.getItem("microlab.opZoom")) || 0; } catch (e) { /* private mode */ }
    return Math.max(0, Math.min(ZOOMS.length - 1, saved));
  }

  function applyZoom() {
    var svg = document.getElementById("op-graph");
    if (!svg) return;
    var box = svg.viewBox.baseVal, z = ZOOMS[zoomIndex()];
    svg.setAttribute("width", Math.round(box.width * z));
    svg.setAttribute("height", Math.round(box.height * z));
    var level = document.getElementById("op-zoom-level");
    if (level) level.textContent = Math.round(z * 100) + "%";
    var out = document.getElementById("op-zoom-out"), inn = document.getElementById("op-zoom-in");
    if (out) out.disabled = zoomIndex() === 0;
    if (inn) inn.disabled = zoomIndex() === ZOOMS.length - 1;
    updateMinimap();
  }

  function zoom(by) {
    var next = Math.max(0, Math.min(ZOOMS.length - 1, zoomIndex() + by));
    try { window.localStorage.setItem("microlab.opZoom", String(next)); } catch (e) { /* private mode */ }
    applyZoom();
    centerCurrent();
  }

  // --- the minimap: every node as a small box, the part of the graph in view framed ----------
  var SVG_NS = "http://www.w3.org/2000/svg";

  function buildMinimap() {
    var map = document.getElementById("op-minimap"), graph = document.getElementById("op-graph");
    if (!map || !graph || map.childNodes.length) return;
    graph.querySelectorAll(".opnode").forEach(function (g) {
      var box = g.querySelector("rect.box"), r = document.createElementNS(SVG_NS, "rect");
      ["x", "y", "width", "height"].forEach(function (a) { r.setAttribute(a, box.getAttribute(a)); });
      r.setAttribute("class", "mm-node");
      r.dataset.node = g.dataset.node;
      map.appendChild(r);
    });
    var frame = document.createElementNS(SVG_NS, "rect");
    frame.setAttribute("class", "mm-view");
    frame.setAttribute("vector-effect", "non-scaling-stroke");
    frame.setAttribute("stroke-width", "2");
    map.appendChild(frame);
    var wrap = graph.closest(".op-graph-wrap");
    wrap.addEventListener("scroll", updateMinimap, { passive: true });
    map.addEventListener("click", function (ev) {
      var rect = map.getBoundingClientRect(), view = map.viewBox.baseVal, z = ZOOMS[zoomIndex()];
      var gx = ((ev.clientX - rect.left) / rect.width) * view.width;
      var gy = ((ev.clientY - rect.top) / rect.height) * view.height;
      wrap.scrollTo({ left: gx * z - wrap.clientWidth / 2, top: gy * z - wrap.clientHeight / 2 });
    });
  }

  function updateMinimap() {
    var map = document.getElementById("op-minimap"), graph = document.getElementById("op-graph");
    if (!map || !graph) return;
    buildMinimap();
    map.querySelectorAll(".mm-node").forEach(function (r) {
      var g = document.getElementById("opnode-" + r.dataset.node);
      var st = g && (g.classList.contains("st-current") ? "current" : g.classList.contains("st-done") ? "done" : "");
      r.setAttribute("class", "mm-node" + (st ? " st-" + st : ""));
    });
    var wrap = graph.closest(".op-graph-wrap"), z = ZOOMS[zoomIndex()], frame = map.querySelector(".mm-view");
    if (!wrap || !frame) return;
    frame.setAttribute("x", wrap.scrollLeft / z);
    frame.setAttribute("y", wrap.scrollTop / z);
    frame.setAttribute("width", wrap.clientWidth / z);
    frame.setAttribute("height", wrap.clientHeight / z);
  }

  // --- the toolbar's height places the panels below it -------------------------------------
  function measureBar() {
    var bar = document.getElementById("op-controls"), root = document.getElementById("opview");
    if (bar && root) root.style.setProperty("--op-bar-h", bar.offsetHeight + "px");
  }
  window.addEventListener("resize", function () { measureBar(); updateMinimap(); });

  // --- play --------------------------------------------------------------------------------
  var playing = false, timer = null;

  function delay() {
    var speed = document.getElementById("op-speed");
    var perSecond = speed ? Number(speed.value) : 4;
    return 1000 / perSecond;
  }

  function setPlaying(on) {
    playing = on;
    var button = document.getElementById("op-play");
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "❚❚ Pause" : "▶▶ Play";
    }
    clearTimeout(timer);
    if (on) tick();
  }

  function tick() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var step = document.getElementById("op-step");
      if (!playing || !step || step.disabled) { setPlaying(false); return; }
      step.click();  // the next tick is scheduled when the swap has settled
    }, delay());
  }

  function keepSpeed(fresh) {
    // the controls are swapped out of band; keep the slider where the student left it
    var speed = fresh.querySelector && fresh.querySelector("#op-speed");
    if (speed && window._opSpeed) speed.value = window._opSpeed;
  }

  document.addEventListener("input", function (ev) {
    if (ev.target.id === "op-speed") window._opSpeed = ev.target.value;
  });

  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("#op-play")) setPlaying(!playing);
    if (ev.target.closest && ev.target.closest("#op-zoom-in")) zoom(+1);
    if (ev.target.closest && ev.target.closest("#op-zoom-out")) zoom(-1);
    // the side panel is swapped whole: a keyboard user keeps focus on the head picker
    if (ev.target.closest && ev.target.closest(".op-head-pick button")) refocusHead = true;
  });

  var refocusHead = false;

  // a node of the graph (drawn once) jumps to its op keeping the head now chosen
  document.addEventListener("htmx:configRequest", function (ev) {
    var elt = ev.detail.elt, state = document.getElementById("op-state");
    if (!state || !elt || !elt.classList || !elt.classList.contains("opnode")) return;
    var head = state.dataset.head || "0";
    var path = ev.detail.path.replace(/&head=[^&]*/, "");
    ev.detail.path = head === "0" ? path : path + "&head=" + head;
  });

  function focusChosenHead() {
    var chosen = document.querySelector('#op-side .op-head-pick button[aria-pressed="true"]');
    if (chosen) chosen.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:afterSettle", function (ev) {
    if (!document.getElementById("opview")) return;
    keepSpeed(document);
    applyZoom();
    measureBar();
    applyState();
    drawAll(document);
    var button = document.getElementById("op-play");
    if (button) {
      button.setAttribute("aria-pressed", playing ? "true" : "false");
      button.textContent = playing ? "❚❚ Pause" : "▶▶ Play";
    }
    var target = ev.detail && ev.detail.target;
    if (refocusHead && target && target.id === "op-side") {
      refocusHead = false;
      focusChosenHead();
    }
    if (target && /^op-(scalars|weight|update|chain)$/.test(target.id) && target.scrollIntoView) {
      target.scrollIntoView({ block: "nearest" });
    }
    if (playing && ev.detail && ev.detail.target && ev.detail.target.id === "op-side") tick();
  });

  // --- keyboard ------------------------------------------------------------------------------
  document.addEventListener("keydown", function (ev) {
    if (!document.getElementById("opview") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    // Space / Enter on a head button presses it (not Play)
    if ((ev.key === " " || ev.key === "Enter") && ev.target.closest && ev.target.closest(".op-head-pick")) return;
    if (ev.key === "+" || ev.key === "=") { ev.preventDefault(); zoom(+1); return; }
    if (ev.key === "-") { ev.preventDefault(); zoom(-1); return; }
    var id = { ArrowRight: "op-step", ArrowLeft: "op-back", r: "op-reset", Home: "op-reset", " ": "op-play" }[ev.key];
    if (ev.key === "Enter" && ev.target.classList && ev.target.classList.contains("opnode")) {
      ev.target.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      return;
    }
    var button = id && document.getElementById(id);
    if (id === "op-step" && button && button.disabled) {  // after the last step: the update
      button = document.querySelector("#op-take-step button");
    }
    if (!button || button.disabled) return;
    ev.preventDefault();
    if (id !== "op-play") setPlaying(false);
    button.click();
  });

  function init() {
    if (!document.getElementById("opview")) return;
    measureBar();
    applyZoom();
    drawAll(document);
    applyState();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
