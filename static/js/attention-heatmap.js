// Attention heatmaps: a small canvas per layer and head (.head-thumb buttons), and the
// selected head drawn large (.heatmap-focus) with the characters along both axes (as is
// any canvas marked data-axes, like the comparison's).
// A thumbnail's data-attn holds the causal (lower-triangle) weights row by row as base64
// bytes (weight × 255); the characters are the JSON list data-chars on .attention.
// Hovering any heatmap cell shows its weight in a small tooltip; on the focused large map
// the arrow keys move a cursor and read the cell out (for keyboards and screen readers).
(function () {
  "use strict";

  const ACCENT = [47, 111, 219]; // --accent
  const MASKED = "#f1efe9"; // the future a position may not look at
  let chosen = null; // "layer/head" the viewer selected; survives new snapshots

  // The canvas that holds the data for `canvas` (the focus view shows the selected thumb).
  function source(canvas) {
    if (!canvas.classList.contains("heatmap-focus")) return canvas;
    const root = canvas.closest(".attention");
    const pressed = root && root.querySelector('.head-thumb[aria-pressed="true"] canvas');
    return pressed || (root && root.querySelector(".head-thumb canvas"));
  }

  function weights(canvas) {
    if (canvas._weights) return canvas._weights;
    const size = LabData.number(canvas, "size") || 0;
    const bytes = atob(canvas.getAttribute("data-attn") || "");
    const out = new Float32Array(size * size);
    let k = 0;
    for (let row = 0; row < size; row++) {
      for (let col = 0; col <= row; col++) out[row * size + col] = bytes.charCodeAt(k++) / 255;
    }
    canvas._weights = out;
    return out;
  }

  // Where the cells start and how big they are: labels get a margin when they fit.
  function layout(canvas, size) {
    const width = canvas.clientWidth;
    const axes = canvas.classList.contains("heatmap-focus") || canvas.hasAttribute("data-axes");
    const margin = axes ? parseFloat(LabData.fontPx(0.95)) : 0;
    return { offset: margin, cell: (width - margin) / size, labelled: margin > 0 };
  }

  function shortLabel(label) {
    return label.length > 1 ? "◆" : label; // BOS: one glyph on the axes, spelled out on hover
  }

  function draw(canvas, chars) {
    const size = LabData.number(canvas, "size") || 0;
    const data = source(canvas);
    const box = LabData.fitCanvas(canvas);
    if (!size || !data) return;
    const w = weights(data);
    const ctx = box.ctx;
    const at = layout(canvas, size);
    const cell = at.cell;
    // hidden (display: none, as in the projector's other views): nothing to draw until it is
    // shown (a negative cell made the label loop below step backwards for ever)
    if (!(cell > 0)) return;
    ctx.fillStyle = MASKED;
    ctx.fillRect(at.offset, at.offset, cell * size, cell * size);
    for (let row = 0; row < size; row++) {
      for (let col = 0; col <= row; col++) {
        const x = at.offset + col * cell;
        const y = at.offset + row * cell;
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(x, y, cell + 0.5, cell + 0.5);
        // sqrt, so that attention spread thinly over many positions stays visible
        const alpha = Math.sqrt(w[row * size + col]);
        ctx.fillStyle = "rgba(" + ACCENT.join(",") + "," + alpha.toFixed(3) + ")";
        ctx.fillRect(x, y, cell + 0.5, cell + 0.5);
      }
    }
    if (at.labelled) {
      const largest = parseFloat(LabData.fontPx(0.75));
      const every = Math.max(1, Math.ceil(7 / cell)); // skip labels that would overlap
      ctx.fillStyle = LabData.css("--muted") || "#5f6b78";
      ctx.font = Math.max(7, Math.min(largest, Math.floor(cell * every) - 1)) + "px " +
        (LabData.css("--mono") || "monospace");
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let i = 0; i < size; i += every) {
        const mid = at.offset + (i + 0.5) * cell;
        const label = shortLabel(chars[i] || "");
        ctx.fillText(label, mid, at.offset / 2); // columns: looked at
        ctx.fillText(label, at.offset / 2, mid); // rows: looking
      }
    }
    canvas.setAttribute("data-drawn", String(size));
  }

  // --- selecting a head --------------------------------------------------------------

  function select(thumb) {
    const root = thumb.closest(".attention");
    root.querySelectorAll(".head-thumb").forEach(function (t) {
      t.setAttribute("aria-pressed", t === thumb ? "true" : "false");
    });
    const layer = thumb.getAttribute("data-layer");
    const head = thumb.getAttribute("data-head");
    chosen = layer + "/" + head;
    const caption = root.querySelector(".attention-focus-caption");
    if (caption) caption.textContent = "layer " + layer + " · head " + head;
    const focus = root.querySelector(".heatmap-focus");
    if (focus) draw(focus, LabData.json(root, "chars", []));
  }

  document.addEventListener("click", function (event) {
    const thumb = event.target.closest && event.target.closest(".head-thumb");
    if (thumb) select(thumb);
  });

  // --- the tooltip -------------------------------------------------------------------

  let tip = null;
  function tooltip() {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "heatmap-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      document.body.append(tip);
    }
    return tip;
  }

  // What one cell says, in words: "e (3) → h (1): 42%" (whole percents: the weights are
  // stored as bytes, 1/255 apart).
  function describe(canvas, row, col) {
    const size = LabData.number(canvas, "size") || 0;
    const data = source(canvas);
    if (!data || row < 0 || col < 0 || row >= size || col >= size) return null;
    const chars = LabData.json(canvas.closest(".attention"), "chars", []);
    const looking = (chars[row] || "") + " (" + row + ")";
    const looked = (chars[col] || "") + " (" + col + ")";
    return col > row
      ? looking + " cannot look ahead at " + looked
      : looking + " → " + looked + ": " + Math.round(100 * weights(data)[row * size + col]) + "%";
  }

  function showTip(text, pageX, pageY) {
    const box = tooltip();
    box.hidden = text === null;
    if (text === null) return;
    box.textContent = text;
    box.style.left = pageX + 14 + "px";
    box.style.top = pageY + 14 + "px";
  }

  document.addEventListener("mousemove", function (event) {
    const canvas = event.target;
    if (!(canvas instanceof HTMLCanvasElement) || !canvas.classList.contains("heatmap")) return;
    const at = layout(canvas, LabData.number(canvas, "size") || 0);
    const rect = canvas.getBoundingClientRect();
    const col = Math.floor((event.clientX - rect.left - at.offset) / at.cell);
    const row = Math.floor((event.clientY - rect.top - at.offset) / at.cell);
    showTip(describe(canvas, row, col), event.pageX, event.pageY);
  });

  // Keyboard: the focused large map walks a cursor over the cells it may look at.
  const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  document.addEventListener("keydown", function (event) {
    const canvas = event.target;
    const move = MOVES[event.key];
    if (!move || !canvas.classList || !canvas.classList.contains("heatmap-focus")) return;
    event.preventDefault();
    const size = LabData.number(canvas, "size") || 0;
    const [row0, col0] = canvas._cursor || [0, -1];
    const row = Math.max(0, Math.min(size - 1, row0 + move[0]));
    const col = Math.max(0, Math.min(row, col0 + move[1]));
    canvas._cursor = [row, col];
    const text = describe(canvas, row, col);
    const at = layout(canvas, size);
    const rect = canvas.getBoundingClientRect();
    showTip(text, rect.left + window.scrollX + at.offset + (col + 1) * at.cell,
      rect.top + window.scrollY + at.offset + (row + 1) * at.cell);
    const readout = canvas.closest(".attention").querySelector(".attention-cell-readout");
    if (readout) readout.textContent = text || "";
  });
  document.addEventListener("focusout", function (event) {
    if (tip && event.target.classList && event.target.classList.contains("heatmap-focus")) tip.hidden = true;
  });
  document.addEventListener("mouseout", function (event) {
    if (tip && event.target.classList && event.target.classList.contains("heatmap")) tip.hidden = true;
  });

  // --- (re)drawing -------------------------------------------------------------------

  const drawnAt = new WeakMap(); // canvas -> width it was last drawn at
  LabData.onDraw(function () {
    document.querySelectorAll(".attention").forEach(function (root) {
      const chars = LabData.json(root, "chars", []);
      const fresh = !drawnAt.has(root);
      drawnAt.set(root, true);
      if (fresh && chosen) {
        // a new snapshot: keep showing the head the viewer chose
        const [layer, head] = chosen.split("/");
        const thumb = root.querySelector(
          '.head-thumb[data-layer="' + layer + '"][data-head="' + head + '"]'
        );
        if (thumb) select(thumb);
      }
      root.querySelectorAll("canvas.heatmap").forEach(function (canvas) {
        if (drawnAt.get(canvas) === canvas.clientWidth) return;
        drawnAt.set(canvas, canvas.clientWidth);
        draw(canvas, chars);
      });
    });
  });
})();
