// Customer import: upload with XHR (for upload progress), then show the summary and
// reload the list. Written for this page; no libraries.
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form) return;
  const bar = document.getElementById("import-progress");
  const status = document.getElementById("import-status");
  const summary = document.getElementById("import-summary");
  const button = document.getElementById("import-submit");

  function showSummary(body) {
    for (const dd of summary.querySelectorAll("dd[data-key]")) {
      dd.textContent = String(body[dd.dataset.key]);
    }
    const unknown = body.unknown_columns || [];
    document.getElementById("import-unknown").textContent =
      unknown.length ? "Columns not imported: " + unknown.join(", ") : "";
    document.getElementById("import-report").href = body.error_report_url;
    const table = document.getElementById("import-errors");
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    for (const row of body.error_rows || []) {
      const tr = document.createElement("tr");
      for (const value of [row.line, row.reason, row.value]) {
        const td = document.createElement("td");
        td.textContent = String(value);
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    table.hidden = !(body.error_rows || []).length;
    summary.hidden = false;
  }

  async function reloadList() {
    // The server renders the list; fetch this page again and swap the table body.
    const resp = await fetch("/customers", { credentials: "same-origin" });
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    const fresh = doc.querySelector("#customers tbody");
    if (fresh) document.querySelector("#customers tbody").replaceWith(fresh);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const data = new FormData(form);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.responseType = "json";
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    summary.hidden = true;
    status.className = "muted";
    status.textContent = "Uploading…";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server imports
      status.textContent = "Importing…";
    });
    xhr.addEventListener("loadend", async function () {
      button.disabled = false;
      bar.hidden = true;
      const body = xhr.response || {};
      if (xhr.status === 200) {
        status.className = "ok";
        status.textContent = "Import finished.";
        showSummary(body);
        await reloadList();
      } else {
        status.className = "error";
        status.textContent = body.message || "Import failed (HTTP " + xhr.status + ").";
      }
    });
    xhr.send(data);
  });
})();
