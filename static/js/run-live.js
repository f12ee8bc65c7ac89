// The run page's live behaviour around htmx: while the snapshot panels are pinned to an
// earlier step (the scrubber; data-following="false" and ?step= in the address), the
// socket's pushes leave them alone; the selected token position (?pos=) survives pushes
// and scrubbing.
(function () {
  "use strict";

  const PINNABLE = ["run-snapshot-view", "run-scrubber"];
  let fromSocket = false;

  function following() {
    const view = document.getElementById("run-snapshot-view");
    return !view || view.getAttribute("data-following") !== "false";
  }

  function selectedPos() {
    return new URLSearchParams(location.search).get("pos");
  }

  document.addEventListener("htmx:wsBeforeMessage", function () { fromSocket = true; });
  document.addEventListener("htmx:wsAfterMessage", function () {
    fromSocket = false;
    reselect();
    trimSamples();
  });
  document.addEventListener("htmx:beforeRequest", function () { fromSocket = false; });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    const target = event.detail.target;
    if (fromSocket && target && PINNABLE.includes(target.id) && !following()) {
      event.detail.shouldSwap = false;
    }
  });

  // Moving the scrubber pins the panels at once, before its request comes back.
  document.addEventListener("input", function (event) {
    const view = document.getElementById("run-snapshot-view");
    if (event.target.id === "scrub-range" && view) view.setAttribute("data-following", "false");
  });

  // Scrubbing and "follow live" keep the selected position.
  document.addEventListener("htmx:configRequest", function (event) {
    const pos = selectedPos();
    if (pos !== null && event.detail.path.endsWith("/snapshot/")) event.detail.parameters.pos = pos;
  });

  // New samples are pushed on top of the list; keep it as long as the server renders it.
  function trimSamples() {
    const list = document.getElementById("run-samples-list");
    const shown = list && Number(list.getAttribute("data-shown"));
    while (shown && list.children.length > shown) list.lastElementChild.remove();
  }

  // A pushed snapshot selects position 0; select the viewer's position again.
  function reselect() {
    const pos = selectedPos();
    const tokens = document.getElementById("run-tokens");
    if (pos === null || !tokens || tokens.getAttribute("data-pos") === pos) return;
    const button = document.getElementById("tok-" + pos);
    if (button) button.click();
  }
})();
