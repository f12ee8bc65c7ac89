// Upload page: drop a .txt file on the box to fill the file input (which still works by
// keyboard and click), and say which file is chosen. The server checks every rule; after a
// refusal, focus goes to the field, described by the message.
(() => {
  const zone = document.querySelector("[data-dropzone]");
  if (!zone) return;
  const input = zone.querySelector("input[type=file]");
  const label = zone.querySelector("[data-dropzone-file]");
  const maxBytes = 200 * 1024;

  const describe = () => {
    const file = input.files[0];
    if (!file) { label.textContent = ""; return; }
    const kb = (file.size / 1024).toFixed(1);
    label.textContent = `${file.name} · ${kb} KB` + (file.size > maxBytes ? " (over 200 KB: it will be refused)" : "");
  };

  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("dragover");
  }));
  ["dragleave", "dragend"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("dragover")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragover");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      describe();
      input.focus();
    }
  });
  input.addEventListener("change", describe);

  // A refused upload comes back as a new page with the message beside the field: focus the
  // field and have it name the message as its description, so a screen reader reads both.
  const error = zone.querySelector(".has-error .error");
  if (error) {
    const described = (input.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && document.getElementById(id));
    if (!described.includes(error.id)) described.unshift(error.id);
    input.setAttribute("aria-describedby", described.join(" "));
    input.focus();
  }
})();
