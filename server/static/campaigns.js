// Campaigns list: the "New campaign" form POSTs the settings and opens the new campaign.
(function () {
  "use strict";
  const F = window.CampaignForm;
  const form = document.getElementById("new-campaign");
  const button = document.getElementById("create-campaign");
  const status = document.getElementById("new-status");
  const errorBox = document.getElementById("new-error");

  form.addEventListener("input", (event) => F.clearError(event.target));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    F.clearErrors(form);
    errorBox.hidden = true;
    button.disabled = true;
    status.textContent = t("Creating…");
    try {
      const result = await F.send("POST", "/api/v1/campaigns", F.collect(form));
      if (result.ok) {
        status.textContent = t("Created");
        window.location.assign(`/campaigns/${result.data.id}`);
        return;
      }
      status.textContent = "";
      if (result.status !== 422 || !F.showError(form, result.data)) {
        errorBox.textContent = apiError(result.data, result.status);
        errorBox.title = result.data.message || "";
        errorBox.hidden = false;
      }
    } catch (err) {
      status.textContent = "";
      errorBox.textContent = t("Could not reach the server.");
      errorBox.title = err.message;
      errorBox.hidden = false;
    }
    button.disabled = false;
  });
  F.wireCustom(document.getElementById("new-strategy"));
})();
