// The playground: a character of the surprise strip (.pg-chars li[data-p]) opens the op
// view of that position of the student's own text; the strip's data-ops is its address up
// to the position. Click, or Enter / Space on a focused character.
(function () {
  "use strict";

  function open(li) {
    const strip = li.closest(".pg-chars");
    const base = strip && strip.getAttribute("data-ops");
    if (base) window.location.href = base + li.getAttribute("data-p") + "/ops/";
  }

  document.addEventListener("click", function (event) {
    const li = event.target.closest && event.target.closest(".pg-chars li[data-p]");
    if (li) open(li);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    const li = event.target.closest && event.target.closest(".pg-chars li[data-p]");
    if (!li) return;
    event.preventDefault();
    open(li);
  });
})();
