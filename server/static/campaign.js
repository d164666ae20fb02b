// Campaign page: start / pause / stop, and the settings editor (PATCH of what changed).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const root = $("campaign");
  const id = root.dataset.id;
  const errorBox = $("action-error");

  async function act(action, button) {
    button.disabled = true;
    errorBox.hidden = true;
    try {
      const resp = await fetch(`/api/v1/campaigns/${id}/${action}`, {
        method: "POST", credentials: "same-origin",
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) throw Object.assign(new Error(apiError(data, resp.status)), { data });
      window.location.reload();
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.title = err.data ? err.data.message || "" : "";
      errorBox.hidden = false;
      button.disabled = false;
    }
  }

  for (const button of document.querySelectorAll("#actions button[data-action]")) {
    button.addEventListener("click", () => {
      if (button.dataset.action === "stop" && !window.confirm(t("Stop this campaign for good? It cannot be started again."))) return;
      act(button.dataset.action, button);
    });
  }

  // --- settings editor ---------------------------------------------------------------------
  const form = $("settings-form");
  const editButton = $("edit-settings");
  if (!form || !editButton) return;
  const F = window.CampaignForm;
  const saveButton = $("save-settings");
  const status = $("settings-status");
  const formError = $("settings-error");
  const rows = document.querySelector("#dispositions-edit tbody");
  const sample = JSON.parse($("script-sample").textContent || "{}");
  const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
  let saved = F.collect(form);
  let saving = false;

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  // The same substitution as dialer/campaigns_config.py render_script: plain text only.
  function render(template, fields, unknown) {
    return template.replace(PLACEHOLDER, (_, name) => {
      if (!(name in fields)) { unknown.add(name); return ""; }
      return fields[name] ?? "";
    });
  }

  function updatePreview() {
    const fields = { ...sample, campaign: $("set-name").value };
    const unknown = new Set();
    const text = render($("set-script").value, fields, unknown);
    const line = render($("set-data-source").value, fields, unknown);
    $("script-preview").textContent = line ? `${line}\n\n${text}`.trim() : text;
    const warning = $("script-warning");
    warning.hidden = unknown.size === 0;
    warning.textContent = unknown.size
      ? t("Unknown placeholders: {names}. Saving will be refused.", { names: [...unknown].map((n) => `{{${n}}}`).join(", ") })
      : "";
  }

  function changedKeys(doc) {
    return Object.keys(doc).filter((k) => JSON.stringify(doc[k]) !== JSON.stringify(saved[k]));
  }

  function onEdit(event) {
    if (event.target.matches("input, select, textarea")) F.clearError(event.target);
    updatePreview();
    if (!saving) {
      const dirty = changedKeys(F.collect(form)).length > 0;
      setStatus(dirty ? t("Unsaved changes") : "", dirty ? "dirty" : "idle");
    }
  }

  // Swap the read-only parts of the page for freshly rendered ones.
  async function refreshViews() {
    const resp = await fetch(window.location.pathname, { credentials: "same-origin" });
    if (!resp.ok) return;
    const fresh = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const sel of ["#campaign-title", "#summary", "#script", "#dispositions-view"]) {
      const now = document.querySelector(sel);
      const next = fresh.querySelector(sel);
      if (now && next) now.innerHTML = next.innerHTML;
    }
    document.title = fresh.title;
  }

  async function save(event) {
    event.preventDefault();
    if (saving) return;
    F.clearErrors(form);
    formError.hidden = true;
    const doc = F.collect(form);
    const keys = changedKeys(doc);
    if (!keys.length) { setStatus(t("No changes to save"), "idle"); return; }
    const patch = Object.fromEntries(keys.map((k) => [k, doc[k]]));
    saving = true;
    saveButton.disabled = true;
    setStatus(t("Saving…"), "saving");
    try {
      const result = await F.send("PATCH", `/api/v1/campaigns/${id}`, patch);
      if (result.ok) {
        saved = doc;
        setStatus(t("Saved"), "saved");
        await refreshViews().catch(() => {});
        return;
      }
      setStatus(t("Not saved"), "error");
      if (result.status !== 422 || !F.showError(form, result.data)) {
        formError.textContent = apiError(result.data, result.status);
        formError.title = result.data.message || "";
        formError.hidden = false;
      }
    } catch (err) {
      setStatus(t("Not saved"), "error");
      formError.textContent = t("Could not reach the server.");
      formError.title = err.message;
      formError.hidden = false;
    } finally {
      saving = false;
      saveButton.disabled = false;
    }
  }

  function addRow() {
    const row = $("disposition-row").content.firstElementChild.cloneNode(true);
    rows.appendChild(row);
    row.querySelector("[data-key=code]").focus();
    onEdit({ target: row });
  }

  editButton.addEventListener("click", () => {
    form.hidden = false;
    editButton.hidden = true;
    $("set-name").focus();
  });
  $("cancel-settings").addEventListener("click", () => {
    form.hidden = true;
    editButton.hidden = false;
  });
  $("add-disposition").addEventListener("click", addRow);
  rows.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove]");
    if (!remove) return;
    remove.closest("tr").remove();
    onEdit({ target: rows });
  });
  $("placeholders").addEventListener("click", (event) => {
    const chip = event.target.closest("[data-placeholder]");
    if (!chip) return;
    const area = $("set-script");
    const text = `{{${chip.dataset.placeholder}}}`;
    area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
    area.focus();
    onEdit({ target: area });
  });
  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);
  form.addEventListener("submit", save);
  F.wireCustom($("set-strategy"));
  updatePreview();
})();
