// Campaign page: start / pause / stop through the JSON API, then show the new state.
(function () {
  "use strict";
  const root = document.getElementById("campaign");
  const id = root.dataset.id;
  const errorBox = document.getElementById("action-error");

  async function act(action, button) {
    button.disabled = true;
    errorBox.hidden = true;
    try {
      const resp = await fetch(`/api/v1/campaigns/${id}/${action}`, {
        method: "POST", credentials: "same-origin",
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(data.message || resp.statusText);
      window.location.reload();
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
      button.disabled = false;
    }
  }

  for (const button of document.querySelectorAll("#actions button[data-action]")) {
    button.addEventListener("click", () => {
      if (button.dataset.action === "stop" && !window.confirm("Stop this campaign for good?")) return;
      act(button.dataset.action, button);
    });
  }
})();
