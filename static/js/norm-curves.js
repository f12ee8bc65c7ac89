// Gradient and update norms per parameter group (log scale), and the learning rate.
(function () {
  "use strict";

  const COLORS = ["#2f6fdb", "#1e8a4c", "#b7791f", "#7b4bc4", "#c2372d", "#0f8b8d", "#8a6d3b"];

  // embeddings, then the layers in order, then lm_head; "total" last, drawn dark and dashed
  function groupOrder(groups) {
    const rank = function (g) {
      if (g === "embeddings") return "0";
      if (g === "lm_head") return "8";
      if (g === "total") return "9";
      return "1" + g;
    };
    return groups.slice().sort(function (a, b) { return rank(a) < rank(b) ? -1 : 1; });
  }

  function style(group, i) {
    if (group === "total") return { color: LabData.css("--fg") || "#1d232b", dash: [5, 3], width: 1.8 };
    return { color: COLORS[i % COLORS.length], width: 1.4 };
  }

  function legend(groups) {
    const list = document.getElementById("norm-legend");
    if (!list || list.getAttribute("data-groups") === groups.join(",")) return;
    list.setAttribute("data-groups", groups.join(","));
    list.replaceChildren.apply(list, groups.map(function (group, i) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      const s = style(group, i);
      swatch.className = "swatch" + (s.dash ? " dashed" : "");
      swatch.style.borderColor = s.color;
      item.append(swatch, group);
      return item;
    }));
  }

  LabData.onDraw(function () {
    const series = LabData.series;
    const groups = groupOrder(Object.keys(series.grad_norms));
    legend(groups);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const kind = canvas.getAttribute("data-chart");
      const xMax = LabData.number(canvas, "num-steps");
      let points;
      if (kind === "grad_norms" || kind === "update_norms") {
        points = LabChart.draw(canvas, {
          xMax: xMax,
          log: true,
          lines: groups.map(function (group, i) {
            return Object.assign({ values: series[kind][group] || [] }, style(group, i));
          }),
        });
      } else if (kind === "lr") {
        points = LabChart.draw(canvas, {
          xMax: xMax,
          yMin: 0,
          lines: [{ values: series.lr, color: LabData.css("--good") || "#1e8a4c", width: 2 }],
        });
      } else {
        return;
      }
      canvas.setAttribute("data-points", String(points));
    });
  });
})();
