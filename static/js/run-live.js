// The run page's live behaviour around htmx: while the snapshot panels are pinned to an
// earlier step (the scrubber; data-following="false" and ?step= in the address), the
// socket's pushes leave them alone; the selected token position (?pos=) survives pushes
// and scrubbing; a worker gone quiet is said so.
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
    if (!event.detail.path.endsWith("/snapshot/")) return;
    if (pos !== null) event.detail.parameters.pos = pos;
    const view = document.getElementById("run-snapshot-view");
    if (view && view.getAttribute("data-view") === "line") event.detail.parameters.view = "line";
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

  // A running run whose worker has gone quiet: the page says so instead of freezing until
  // the reaper's verdict arrives. The status line carries the last heartbeat and the
  // server's clock at render (so the viewer's own clock does not matter).
  const STALL_SECONDS = 10;
  let renderedAt = null; // [element, the viewer's clock when it arrived]
  setInterval(function () {
    const note = document.querySelector(".run-stall");
    if (!note) return;
    if (!renderedAt || renderedAt[0] !== note) renderedAt = [note, Date.now() / 1000];
    const serverNow = Number(note.getAttribute("data-now")) + (Date.now() / 1000 - renderedAt[1]);
    const quiet = Math.round(serverNow - Number(note.getAttribute("data-heartbeat")));
    note.hidden = quiet < STALL_SECONDS;
    if (!note.hidden) {
      note.textContent = "No word from the worker training this run for " + quiet +
        " s. If it stopped, the run is marked failed within a minute.";
    }
  }, 1000);
})();
