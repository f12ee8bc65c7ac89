// The new-run form warns before submitting when the block size cuts lines of the chosen
// text: the same count as runs.forms.block_warning (a line of L characters needs L + 1).
(function () {
  "use strict";

  function update() {
    const note = document.getElementById("block-warning");
    const input = document.getElementById("id_block_size");
    if (!note || !input) return;
    let pairs = [];
    try {
      pairs = JSON.parse(note.getAttribute("data-line-lengths") || "[]");
    } catch (error) {
      return;
    }
    const block = Number(input.value);
    if (!Number.isInteger(block) || block < 1) {
      note.hidden = true;
      return;
    }
    let count = 0;
    let cut = 0;
    let longest = 0;
    pairs.forEach(function ([length, n]) {
      count += n;
      if (length + 1 > block) cut += n;
      longest = Math.max(longest, length);
    });
    note.hidden = cut === 0;
    note.textContent = cut === 0 ? "" : "Block size " + block + " cuts " + cut.toLocaleString("en") +
      " of " + count.toLocaleString("en") + " lines: the model never sees their ends. " +
      "The longest line needs " + (longest + 1) + ".";
  }

  document.addEventListener("input", function (event) {
    if (event.target.id === "id_block_size") update();
  });
  document.addEventListener("htmx:afterSwap", update);
})();
