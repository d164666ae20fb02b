// Segment builder: condition rows → filter document → debounced preview; save; make a list.
(function () {
  "use strict";
  const FIELDS = JSON.parse(document.getElementById("fields").textContent);
  const byName = Object.fromEntries(FIELDS.map((f) => [f.name, f]));
  const OP_LABELS = {
    eq: "is", ne: "is not", gt: ">", gte: "≥", lt: "<", lte: "≤", between: "between",
    in: "is any of", not_in: "is none of", within_days: "within the last (days)",
    not_within_days: "not within the last (days)",
  };
  const PURCHASE_OP_LABELS = { in: "any of", not_in: "none of" };
  const $ = (id) => document.getElementById(id);
  const rows = $("conditions");
  let savedSegment = null;
  let previewSeq = 0;
  let timer = null;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function option(value, label) { return el("option", { value: value, text: label }); }

  function valueEditor(field, op) {
    const box = el("span", { class: "value" });
    if (field.kind === "bool") {
      const sel = el("select", { "data-role": "value" }, [option("true", "yes"), option("false", "no")]);
      box.appendChild(sel);
    } else if (op === "between") {
      box.appendChild(el("input", { type: "number", class: "num", "data-role": "low", value: field.low ?? 0 }));
      box.appendChild(el("span", { text: " and " }));
      box.appendChild(el("input", { type: "number", class: "num", "data-role": "high", value: field.high ?? 0 }));
    } else if (field.choices.length && (op === "in" || op === "not_in")) {
      const sel = el("select", { "data-role": "value", multiple: "multiple", size: "3" },
        field.choices.map((c) => option(c, c)));
      box.appendChild(sel);
    } else if (field.choices.length) {
      box.appendChild(el("select", { "data-role": "value" }, field.choices.map((c) => option(c, c))));
    } else if (field.kind === "int") {
      box.appendChild(el("input", { type: "number", class: "num", "data-role": "value",
        value: field.low ?? 0, min: field.low ?? "", max: field.high ?? "" }));
    } else {
      const hint = op === "in" || op === "not_in" ? "comma, separated" : "";
      box.appendChild(el("input", { type: "text", class: "text", "data-role": "value", placeholder: hint }));
    }
    if (field.within_days) {
      box.appendChild(el("label", {}, [el("span", { text: "within days" }),
        el("input", { type: "number", class: "num", "data-role": "within", min: "1", placeholder: "ever" })]));
    }
    return box;
  }

  function addRow(fieldName) {
    const field = byName[fieldName || FIELDS[0].name];
    const row = el("div", { class: "seg-row" });
    const negate = el("input", { type: "checkbox", "data-role": "not" });
    const fieldSel = el("select", { "data-role": "field", "aria-label": "field" },
      FIELDS.map((f) => option(f.name, f.label)));
    fieldSel.value = field.name;
    const opSel = el("select", { "data-role": "op", "aria-label": "operator" });
    const remove = el("button", { type: "button", class: "secondary", "data-role": "remove", text: "✕",
      "aria-label": "remove condition" });
    row.append(el("label", {}, [negate, el("span", { text: "not" })]), fieldSel, opSel);
    let editor = null;
    function rebuildOps() {
      const f = byName[fieldSel.value];
      opSel.replaceChildren(...f.ops.map((op) =>
        option(op, (f.within_days ? PURCHASE_OP_LABELS[op] : null) || OP_LABELS[op] || op)));
      rebuildValue();
    }
    function rebuildValue() {
      const fresh = valueEditor(byName[fieldSel.value], opSel.value);
      if (editor) row.replaceChild(fresh, editor); else row.insertBefore(fresh, remove);
      editor = fresh;
    }
    row.appendChild(remove);
    fieldSel.addEventListener("change", () => { rebuildOps(); schedule(); });
    opSel.addEventListener("change", () => { rebuildValue(); schedule(); });
    remove.addEventListener("click", () => { row.remove(); schedule(); });
    rebuildOps();
    rows.appendChild(row);
    schedule();
    return row;
  }

  function readValue(row, field, op) {
    const q = (role) => row.querySelector(`[data-role=${role}]`);
    if (field.kind === "bool") return q("value").value === "true";
    const num = (s) => (s === "" || s === null ? s : Number(s));
    if (op === "between") return [num(q("low").value), num(q("high").value)];
    const input = q("value");
    if (input.multiple) return Array.from(input.selectedOptions).map((o) => o.value);
    if (op === "in" || op === "not_in") {
      const parts = input.value.split(",").map((s) => s.trim()).filter(Boolean);
      return field.kind === "int" ? parts.map(Number) : parts;
    }
    return field.kind === "int" ? num(input.value) : input.value;
  }

  function incomplete(value) {
    if (Array.isArray(value)) return value.length === 0 || value.some(incomplete);
    return value === "" || value === null || (typeof value === "number" && Number.isNaN(value));
  }

  function filterDoc() {
    const conditions = Array.from(rows.children).map((row) => {
      const field = byName[row.querySelector("[data-role=field]").value];
      const op = row.querySelector("[data-role=op]").value;
      const value = readValue(row, field, op);
      if (incomplete(value)) return null; // still being typed: leave it out of the count
      const cond = { field: field.name, op: op, value: value };
      const within = row.querySelector("[data-role=within]");
      if (within && within.value !== "") cond.within_days = Number(within.value);
      return row.querySelector("[data-role=not]").checked ? { not: cond } : cond;
    }).filter(Boolean);
    return { [$("combine").value]: conditions };
  }

  async function api(method, path, body) {
    const resp = await fetch(path, {
      method: method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw Object.assign(new Error(data.message || resp.statusText), { data: data });
    return data;
  }

  function showError(message) {
    const box = $("filter-error");
    box.hidden = !message;
    box.textContent = message || "";
  }

  function schedule() {
    clearTimeout(timer);
    $("count").dataset.state = "loading";
    timer = setTimeout(runPreview, 300);
  }

  async function runPreview() {
    const seq = ++previewSeq;
    try {
      const result = await api("POST", "/api/v1/segments/preview", { filter: filterDoc() });
      if (seq !== previewSeq) return; // an older answer arriving late
      showError(null);
      $("count").textContent = result.count.toLocaleString();
      $("count").dataset.count = String(result.count);
      renderSample(result.sample);
    } catch (err) {
      if (seq !== previewSeq) return;
      const field = err.data && err.data.field ? ` (${err.data.field})` : "";
      showError(err.message + field);
    } finally {
      if (seq === previewSeq) $("count").dataset.state = "idle";
    }
  }

  function renderSample(sample) {
    const body = $("sample").querySelector("tbody");
    body.replaceChildren(...sample.map((c) => el("tr", {}, [
      c.id, c.name, c.phone, c.region ?? "", c.gender ?? "", c.age ?? "", c.order_count,
      c.total_spend_krw.toLocaleString(), c.rfm ?? "",
      (c.consent_marketing ? "marketing" : "—") + (c.consent_night ? " · night" : ""),
    ].map((v) => el("td", { text: String(v) })))));
  }

  async function loadCampaigns() {
    try {
      const data = await api("GET", "/api/v1/campaigns");
      const sel = $("campaign-choice");
      for (const c of data.campaigns) {
        if (c.status !== "stopped") sel.appendChild(option(String(c.id), `${c.name} (${c.status})`));
      }
    } catch (err) { /* the new-campaign path still works */ }
  }

  $("add-condition").addEventListener("click", () => addRow());
  $("combine").addEventListener("change", schedule);
  rows.addEventListener("input", schedule);
  rows.addEventListener("change", (e) => {
    if (e.target.dataset.role !== "field" && e.target.dataset.role !== "op") schedule();
  });
  $("campaign-choice").addEventListener("change", () => {
    $("new-campaign").hidden = $("campaign-choice").value !== "new";
  });

  $("save-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      savedSegment = await api("POST", "/api/v1/segments", {
        name: $("segment-name").value, kind: $("segment-kind").value, filter: filterDoc(),
      });
      $("saved").textContent = `Saved segment #${savedSegment.id} (${savedSegment.member_count} customers).`;
      $("saved").className = "ok";
      $("make-list").disabled = false;
      $("list-hint").hidden = true;
      if (!$("campaign-name").value) $("campaign-name").value = savedSegment.name;
    } catch (err) {
      $("saved").textContent = err.message;
      $("saved").className = "error";
    }
  });

  $("list-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!savedSegment) return;
    const button = $("make-list");
    button.disabled = true;
    try {
      let campaignId = $("campaign-choice").value;
      if (campaignId === "new") {
        const made = await api("POST", "/api/v1/campaigns", {
          name: $("campaign-name").value || savedSegment.name,
          data_source_line: $("campaign-source").value,
        });
        campaignId = String(made.id);
      }
      const days = $("exclude-days").value;
      const built = await api("POST", `/api/v1/campaigns/${campaignId}/lists`, {
        segment_id: savedSegment.id, exclude_contacted_days: days === "" ? null : Number(days),
      });
      renderReport(built, campaignId);
    } catch (err) {
      $("list-hint").hidden = false;
      $("list-hint").textContent = err.message;
      $("list-hint").className = "error";
    } finally {
      button.disabled = false;
    }
  });

  const REASON_LABELS = {
    do_not_call: "On a do-not-call list", no_consent: "No marketing consent",
    night_window: "Night-only window, no night consent", invalid_phone: "Invalid phone",
    contacted_recently: "Contacted recently", other_active_campaign: "In another active campaign",
    already_in_campaign: "Already in this campaign",
  };

  function renderReport(built, campaignId) {
    const body = $("report-table").querySelector("tbody");
    const line = (label, n, cls) => el("tr", { class: cls || "" },
      [el("th", { text: label }), el("td", { text: String(n) })]);
    body.replaceChildren(
      line("Segment members", built.candidates),
      ...Object.keys(REASON_LABELS).map((k) =>
        line(REASON_LABELS[k], built.suppression[k] || 0, built.suppression[k] ? "warn" : "")),
      line("Added as leads", built.added, "ok"),
    );
    $("campaign-link").href = `/campaigns/${campaignId}`;
    $("report").hidden = false;
  }

  addRow("region");
  loadCampaigns();
})();
