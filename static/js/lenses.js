// The lenses page (templates/runs/lenses.html). Every reading is an htmx request of the
// controls form; this script only presents: the step slider's label and the timeline's
// marker, Replay, clicks on characters and on the timeline, and the embedding map.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var root = document.getElementById("lenses");
  if (!root) return;
  var steps = (root.dataset.steps || "").split(" ").filter(Boolean).map(Number);
  var numSteps = Number(root.dataset.numSteps) || 1;
  var form = document.getElementById("lens-form");
  var range = document.getElementById("lens-step-range");
  var hiddenStep = document.getElementById("lens-step");
  var map = null; // {data, points, scale}
  var playing = null;

  function stepX(step) {
    return (1000 * (step - 1)) / Math.max(numSteps - 1, 1);
  }

  // --- the step: slider label, timeline marker, map frame -----------------------------------
  function showStep(index) {
    var step = steps[index];
    if (step === undefined) return;
    hiddenStep.value = step;
    document.getElementById("lens-step-label").textContent = step;
    range.setAttribute("aria-valuetext", "step " + step);
    document.querySelectorAll(".lens-marker").forEach(function (marker) {
      marker.setAttribute("x1", stepX(step));
      marker.setAttribute("x2", stepX(step));
    });
    drawFrame(step);
  }

  function read() {
    if (window.htmx) htmx.trigger(form, "submit");
    else form.submit();
  }

  if (range) {
    range.addEventListener("input", function () {
      showStep(Number(range.value));
    });
    showStep(Number(range.value));
  }

  // Replay: walk the stored steps (the map and the marker move), then read the last one.
  var play = document.getElementById("lens-play");
  function stop() {
    clearInterval(playing);
    playing = null;
    play.setAttribute("aria-pressed", "false");
    play.textContent = "▶ Replay";
    read();
  }
  if (play) {
    play.addEventListener("click", function () {
      if (playing) return stop();
      var index = Number(range.value) >= steps.length - 1 ? 0 : Number(range.value);
      play.setAttribute("aria-pressed", "true");
      play.textContent = "❚❚ Pause";
      range.value = index;
      showStep(index);
      playing = setInterval(function () {
        if (Number(range.value) >= steps.length - 1) return stop();
        range.value = Number(range.value) + 1;
        showStep(Number(range.value));
      }, 700);
    });
  }

  // A new text starts at its last character; a click on a character selects it.
  var text = document.getElementById("lens-text");
  if (text) {
    text.addEventListener("input", function () {
      document.getElementById("lens-pos").value = "";
    });
  }
  document.addEventListener("click", function (event) {
    var char = event.target.closest(".lens-char");
    if (char) {
      document.getElementById("lens-pos").value = char.dataset.pos;
      read();
    }
  });

  // A click on the timeline jumps to the nearest stored step.
  var timeline = document.getElementById("lens-timeline");
  if (timeline && range) {
    timeline.addEventListener("click", function (event) {
      var strip = event.target.closest("svg") || timeline.querySelector("svg");
      var box = strip.getBoundingClientRect();
      var step = 1 + ((event.clientX - box.left) / box.width) * (numSteps - 1);
      var best = 0;
      steps.forEach(function (s, i) {
        if (Math.abs(s - step) < Math.abs(steps[best] - step)) best = i;
      });
      range.value = best;
      showStep(best);
      read();
    });
  }

  // --- the embedding map ----------------------------------------------------------------------
  function buildMap(section) {
    var svg = section.querySelector("#lens-map-svg");
    if (!svg || !section.dataset.map) return;
    var data = JSON.parse(section.dataset.map);
    var scale = 1e-9;
    data.frames.forEach(function (frame) {
      frame.forEach(function (xy) {
        scale = Math.max(scale, Math.abs(xy[0]), Math.abs(xy[1]));
      });
    });
    var points = data.labels.map(function (label, i) {
      var g = document.createElementNS(SVG, "g");
      g.setAttribute("class", "pt g-" + data.groups[i]);
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "img");
      var dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("r", "0.035");
      var name = document.createElementNS(SVG, "text");
      name.setAttribute("x", "0.045");
      name.setAttribute("y", "0.025");
      name.textContent = label;
      g.appendChild(dot);
      g.appendChild(name);
      g.addEventListener("mouseenter", function () { hover(i); });
      g.addEventListener("focus", function () { hover(i); });
      svg.appendChild(g);
      return g;
    });
    map = { data: data, points: points, scale: scale, hot: null };
    drawFrame(steps[Number(range ? range.value : 0)]);
  }

  function frameIndex(step) {
    var at = 0;
    map.data.steps.forEach(function (s, i) {
      if (s <= step) at = i;
    });
    return at;
  }

  function drawFrame(step) {
    if (!map) return;
    var k = frameIndex(step === undefined ? map.data.steps[map.data.steps.length - 1] : step);
    var frame = map.data.frames[k];
    map.points.forEach(function (g, i) {
      var x = frame[i][0] / map.scale, y = -frame[i][1] / map.scale;
      g.style.transform = "translate(" + x.toFixed(4) + "px," + y.toFixed(4) + "px)";
      g.setAttribute("aria-label", map.data.labels[i] + ": " + neighbourText(k, i));
    });
    document.getElementById("lens-map-step").textContent = map.data.steps[k];
    map.frame = k;
    if (map.hot !== null) hover(map.hot);
  }

  function neighbourText(k, i) {
    return "closest " + map.data.neighbours[k][i].map(function (pair) {
      return "“" + map.data.labels[pair[0]] + "” (cosine " + pair[1].toFixed(2) + ")";
    }).join(", ");
  }

  function hover(i) {
    map.hot = i;
    var near = map.data.neighbours[map.frame][i].map(function (pair) { return pair[0]; });
    map.points.forEach(function (g, j) {
      g.classList.toggle("hot", j === i);
      g.classList.toggle("near", near.indexOf(j) >= 0);
    });
    document.getElementById("lens-map-info").textContent =
      "“" + map.data.labels[i] + "” at step " + map.data.steps[map.frame] + ": " + neighbourText(map.frame, i) + ".";
  }

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var section = document.getElementById("lens-map");
    if (section && section.dataset.map && !map) buildMap(section);
    // the reading answers for one step: keep the slider on it (Back and Forward too)
    var reading = document.getElementById("lens-reading");
    if (reading && range && reading.dataset.step && !playing) {
      var index = steps.indexOf(Number(reading.dataset.step));
      if (index >= 0 && index !== Number(range.value)) {
        range.value = index;
        showStep(index);
      }
    }
  });
  var initial = document.getElementById("lens-map");
  if (initial && initial.dataset.map) buildMap(initial);
})();
