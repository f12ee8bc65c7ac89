// A form with data-confirm asks once before it submits: "Cancel run 12 at step {step}?",
// {step} read from the page's live step counter at the moment of the click.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (!form) return;
  const step = document.getElementById("run-current-step");
  const question = form.dataset.confirm.replace("{step}", step ? step.textContent.trim() : "?");
  if (!window.confirm(question)) event.preventDefault();
});
