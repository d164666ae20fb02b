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

  // The importer's reasons (crm/parse.py and its report) in the page's language; a reason
  // not listed here shows as written. A row's reasons are joined with "; ".
  const REASONS = {
    "invalid phone number": t("Invalid phone number"),
    "missing phone number": t("No phone number"),
    "missing name": t("No name"),
    "no name": t("No name"),
    "duplicate": t("Duplicate of an earlier row"),
    "duplicate phone": t("Duplicate of an earlier row"),
    "registration date unreadable": t("Registration date unreadable"),
    "birth date unreadable": t("Birth date unreadable"),
    "gender unreadable": t("Gender unreadable"),
    "marketing consent unreadable": t("Marketing consent unreadable"),
    "external id already used by another phone in this file": t("Customer number already used by another phone in this file"),
  };
  function reasonText(reason) {
    return String(reason).split("; ").map((r) => {
      const key = r.trim().toLowerCase();
      if (REASONS[key]) return REASONS[key];
      const dup = /^duplicate of line (\d+)/.exec(key);
      if (dup) return t("Duplicate of line {line}", { line: dup[1] });
      return r;
    }).join(", ");
  }

  function showSummary(body) {
    for (const dd of summary.querySelectorAll("dd[data-key]")) {
      dd.textContent = fmt.num(body[dd.dataset.key]);
    }
    const unknown = body.unknown_columns || [];
    document.getElementById("import-unknown").textContent =
      unknown.length ? t("Columns not imported: {names}", { names: unknown.join(", ") }) : "";
    document.getElementById("import-report").href = body.error_report_url;
    const table = document.getElementById("import-errors");
    const tbody = table.querySelector("tbody");
    tbody.replaceChildren();
    for (const row of body.error_rows || []) {
      const tr = document.createElement("tr");
      for (const value of [row.line, reasonText(row.reason), row.value]) {
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
    for (const sel of ["#customers tbody", "#customer-total"]) {
      const fresh = doc.querySelector(sel);
      if (fresh) document.querySelector(sel).replaceWith(fresh);
    }
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
    status.textContent = t("Uploading…");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server imports
      status.textContent = t("Importing…");
    });
    xhr.addEventListener("loadend", async function () {
      button.disabled = false;
      bar.hidden = true;
      const body = xhr.response || {};
      if (xhr.status === 200) {
        status.className = "ok";
        status.textContent = t("Import finished.");
        showSummary(body);
        await reloadList();
      } else {
        status.className = "error";
        status.textContent = body.error ? apiError(body, xhr.status) : t("Import failed (HTTP {status}).", { status: xhr.status });
        status.title = body.message || "";
      }
    });
    xhr.send(data);
  });
})();
