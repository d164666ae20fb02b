// Segment builder: condition rows → filter document → debounced preview; save (or update
// the segment reopened from the list); make a campaign list with a script.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const FIELDS = JSON.parse($("fields").textContent);
  const REGIONS = JSON.parse($("regions").textContent);
  const SCRIPT_FIELDS = JSON.parse($("script-fields").textContent);
  const byName = Object.fromEntries(FIELDS.map((f) => [f.name, f]));
  const OP_LABELS = {
    eq: t("is"), ne: t("is not"), gt: ">", gte: "≥", lt: "<", lte: "≤", between: t("between"),
    in: t("is one of"), not_in: t("is none of"), within_days: t("within the last (days)"),
    not_within_days: t("not within the last (days)"),
  };
  const PURCHASE_OP_LABELS = { in: t("any of"), not_in: t("none of") };
  const rows = $("conditions");
  let savedSegment = null;  // the segment being edited (opened or just saved)
  let previewSeq = 0;
  let timer = null;
  let firstSample = null;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }
  function option(value, text) { return el("option", { value: value, text: text }); }

  // Regions come from the customers themselves: a picker, never free text.
  function regionEditor(op) {
    if (op === "in" || op === "not_in") {
      const box = el("span", { class: "region-picker", "data-role": "regions", role: "group",
        "aria-label": t("Regions") });
      for (const r of REGIONS) {
        box.append(el("label", {}, [el("input", { type: "checkbox", value: r }), el("span", { text: r })]));
      }
      return box;
    }
    return el("select", { "data-role": "value", "aria-label": t("Region") }, REGIONS.map((r) => option(r, r)));
  }

  function valueEditor(field, op) {
    const box = el("span", { class: "value" });
    if (field.kind === "bool") {
      box.appendChild(el("select", { "data-role": "value", "aria-label": t("Value") },
        [option("true", t("yes")), option("false", t("no"))]));
    } else if (field.name === "region") {
      box.appendChild(regionEditor(op));
    } else if (op === "between") {
      box.appendChild(el("input", { type: "number", class: "num", "data-role": "low", value: field.low ?? 0, "aria-label": t("From") }));
      box.appendChild(el("span", { text: " ~ " }));
      box.appendChild(el("input", { type: "number", class: "num", "data-role": "high", value: field.high ?? 0, "aria-label": t("To") }));
    } else if (field.choices.length && (op === "in" || op === "not_in")) {
      box.appendChild(el("select", { "data-role": "value", multiple: "multiple", size: "3", "aria-label": t("Values") },
        field.choices.map((c) => option(c, choiceLabel(field, c)))));
    } else if (field.choices.length) {
      box.appendChild(el("select", { "data-role": "value", "aria-label": t("Value") },
        field.choices.map((c) => option(c, choiceLabel(field, c)))));
    } else if (field.kind === "int") {
      box.appendChild(el("input", { type: "number", class: "num", "data-role": "value", "aria-label": t("Value"),
        value: field.low ?? 0, min: field.low ?? "", max: field.high ?? "" }));
    } else {
      const hint = op === "in" || op === "not_in" ? t("comma, separated") : "";
      box.appendChild(el("input", { type: "text", class: "text", "data-role": "value", placeholder: hint, "aria-label": t("Value") }));
    }
    if (field.within_days) {
      box.appendChild(el("label", {}, [el("span", { text: t("within days") }),
        el("input", { type: "number", class: "num", "data-role": "within", min: "1", placeholder: t("ever") })]));
    }
    return box;
  }
  function choiceLabel(field, c) {
    if (field.name === "gender") return label("gender", c);
    if (field.name === "last_disposition") return label("disposition", c);
    return c;
  }

  function addRow(fieldName, cond) {
    const field = byName[fieldName || FIELDS[0].name];
    const row = el("div", { class: "seg-row" });
    const negate = el("input", { type: "checkbox", "data-role": "not" });
    const fieldSel = el("select", { "data-role": "field", "aria-label": t("Field") },
      FIELDS.map((f) => option(f.name, f.label)));
    fieldSel.value = field.name;
    const opSel = el("select", { "data-role": "op", "aria-label": t("Operator") });
    const remove = el("button", { type: "button", class: "secondary", "data-role": "remove", text: "✕",
      "aria-label": t("Remove condition") });
    row.append(el("label", {}, [negate, el("span", { text: t("not") })]), fieldSel, opSel);
    let editor = null;
    function rebuildOps() {
      const f = byName[fieldSel.value];
      opSel.replaceChildren(...f.ops.map((op) =>
        option(op, (f.within_days ? PURCHASE_OP_LABELS[op] : null) || OP_LABELS[op] || op)));
      if (f.name === "region" && f.ops.includes("in")) opSel.value = "in";
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
    if (cond) fillRow(row, cond);
    schedule();
    return row;
  }

  // Put a saved condition back into a row (reopening a segment).
  function fillRow(row, cond) {
    const negated = !!cond.not;
    const c = negated ? cond.not : cond;
    row.querySelector("[data-role=not]").checked = negated;
    const opSel = row.querySelector("[data-role=op]");
    opSel.value = c.op;
    opSel.dispatchEvent(new Event("change"));
    const q = (role) => row.querySelector(`[data-role=${role}]`);
    if (q("regions")) {
      const want = new Set(Array.isArray(c.value) ? c.value : [c.value]);
      for (const box of q("regions").querySelectorAll("input")) box.checked = want.has(box.value);
    } else if (c.op === "between") {
      q("low").value = c.value[0]; q("high").value = c.value[1];
    } else if (q("value") && q("value").multiple) {
      const want = new Set(c.value.map(String));
      for (const o of q("value").options) o.selected = want.has(o.value);
    } else if (q("value")) {
      q("value").value = Array.isArray(c.value) ? c.value.join(", ") : String(c.value);
    }
    if (c.within_days !== undefined && q("within")) q("within").value = c.within_days;
  }

  function readValue(row, field, op) {
    const q = (role) => row.querySelector(`[data-role=${role}]`);
    if (field.kind === "bool") return q("value").value === "true";
    const num = (s) => (s === "" || s === null ? s : Number(s));
    if (op === "between") return [num(q("low").value), num(q("high").value)];
    if (q("regions")) return Array.from(q("regions").querySelectorAll("input:checked")).map((i) => i.value);
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
      if (incomplete(value)) return null; // still being chosen: leave it out of the count
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
    if (!resp.ok) throw Object.assign(new Error(apiError(data, resp.status)), { data: data });
    return data;
  }

  function showError(err) {
    const box = $("filter-error");
    box.hidden = !err;
    box.textContent = err ? err.message : "";
    box.title = err && err.data ? err.data.message || "" : "";
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
      $("count").textContent = fmt.num(result.count);
      $("count").dataset.count = String(result.count);
      renderSample(result.sample);
    } catch (err) {
      if (seq !== previewSeq) return;
      // An invalid filter counts nothing: no stale number or sample stays on screen.
      $("count").textContent = "—";
      delete $("count").dataset.count;
      renderSample([]);
      showError(err);
    } finally {
      if (seq === previewSeq) $("count").dataset.state = "idle";
    }
  }

  function renderSample(sample) {
    firstSample = sample[0] || null;
    const body = $("sample").querySelector("tbody");
    body.replaceChildren(...sample.map((c) => el("tr", {}, [
      c.id, c.name, fmt.phone(c.phone), c.region ?? "", c.gender ? label("gender", c.gender) : "", c.age ?? "",
      fmt.num(c.order_count), fmt.won(c.total_spend_krw), c.rfm ?? "",
      (c.consent_marketing ? t("marketing") : "—") + (c.consent_night ? " · " + t("night") : ""),
    ].map((v) => el("td", { text: String(v) })))));
    updatePreview();
  }

  // --- the campaign's script, previewed with the first sample customer --------------------
  const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
  function updatePreview() {
    const c = firstSample || {};
    const fields = {
      name: c.name || t("Customer"), first_name: (c.name || "").split(" ")[0] || t("Customer"),
      region: c.region || "", agent: t("(agent)"), campaign: $("campaign-name").value || t("(campaign)"),
      last_purchase_date: c.last_purchase_at ? fmt.day(c.last_purchase_at) : "",
    };
    const unknown = new Set();
    const render = (text) => text.replace(PLACEHOLDER, (_, name) => {
      if (!SCRIPT_FIELDS.includes(name)) { unknown.add(name); return ""; }
      return fields[name] ?? "";
    });
    const line = render($("campaign-source").value);
    const script = render($("campaign-script").value);
    $("script-preview").textContent = line ? `${line}\n\n${script}`.trim() : script;
    $("script-warning").hidden = unknown.size === 0;
    $("script-warning").textContent = unknown.size
      ? t("Unknown placeholders: {names}. The campaign will refuse them.", { names: [...unknown].map((n) => `{{${n}}}`).join(", ") })
      : "";
  }
  for (const id of ["campaign-source", "campaign-script", "campaign-name"]) $(id).addEventListener("input", updatePreview);
  $("placeholders").addEventListener("click", (event) => {
    const chip = event.target.closest("[data-placeholder]");
    if (!chip) return;
    const area = $("campaign-script");
    area.setRangeText(`{{${chip.dataset.placeholder}}}`, area.selectionStart, area.selectionEnd, "end");
    area.focus();
    updatePreview();
  });

  async function loadCampaigns() {
    try {
      const data = await api("GET", "/api/v1/campaigns");
      const sel = $("campaign-choice");
      for (const c of data.campaigns) {
        if (c.status !== "stopped") sel.appendChild(option(String(c.id), `${c.name} (${label("campaign_status", c.status)})`));
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

  function markEditing(segment) {
    savedSegment = segment;
    const tag = $("editing");
    tag.hidden = !segment;
    tag.textContent = segment ? t("Editing: {name} (no. {id})", { name: segment.name, id: segment.id }) : "";
    $("save").textContent = segment ? t("Save changes") : t("Save segment");
    $("save-new").hidden = !segment;
    $("make-list").disabled = !segment;
    $("list-hint").hidden = !!segment;
  }

  // The saved list shows the segment as it is now (a new one on top, an edited one changed).
  function showSaved(segment) {
    const body = $("saved-segments").querySelector("tbody");
    const empty = body.querySelector("td[colspan]");
    if (empty) empty.parentElement.remove();
    let row = body.querySelector(`tr[data-segment="${segment.id}"]`);
    const cells = [segment.id, segment.name, label("segment_kind", segment.kind),
      segment.member_count === null || segment.member_count === undefined ? "" : fmt.num(segment.member_count),
      segment.created_by, fmt.when(segment.created_at)];
    const fresh = el("tr", { "data-segment": String(segment.id) }, cells.map((v) => el("td", { text: String(v) })));
    const open = el("button", { type: "button", class: "secondary small", "data-open": String(segment.id), text: t("Open and edit") });
    fresh.append(el("td", {}, [open]));
    if (row) row.replaceWith(fresh); else body.prepend(fresh);
  }

  async function save(asNew) {
    const body = { name: $("segment-name").value, kind: $("segment-kind").value, filter: filterDoc() };
    try {
      const editing = savedSegment && !asNew;
      const segment = editing
        ? await api("PUT", `/api/v1/segments/${savedSegment.id}`, body)
        : await api("POST", "/api/v1/segments", body);
      markEditing(segment);
      showSaved(segment);
      $("saved").textContent = tn("Saved segment no. {id} ({n} customer).", "Saved segment no. {id} ({n} customers).",
        segment.member_count, { id: segment.id });
      $("saved").className = "ok";
      if (!$("campaign-name").value) $("campaign-name").value = segment.name;
      updatePreview();
    } catch (err) {
      $("saved").textContent = err.message;
      $("saved").className = "error";
    }
  }
  $("save-form").addEventListener("submit", (e) => { e.preventDefault(); save(false); });
  $("save-new").addEventListener("click", () => { if ($("save-form").reportValidity()) save(true); });

  // Reopen a saved segment: its conditions come back into the builder, to edit and save.
  $("saved-segments").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-open]");
    if (!button) return;
    try {
      const segment = await api("GET", `/api/v1/segments/${button.dataset.open}`);
      const doc = segment.filter || {};
      const combine = doc.any ? "any" : "all";
      $("combine").value = combine;
      rows.replaceChildren();
      for (const cond of doc[combine] || []) addRow((cond.not || cond).field, cond);
      $("segment-name").value = segment.name;
      $("segment-kind").value = segment.kind;
      markEditing(segment);
      $("saved").textContent = "";
      schedule();
      $("builder").scrollIntoView({ block: "start" });
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
          script: $("campaign-script").value,
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
      $("list-hint").title = err.data ? err.data.message || "" : "";
      $("list-hint").className = "error";
    } finally {
      button.disabled = false;
    }
  });

  const REASONS = ["do_not_call", "no_consent", "night_window", "invalid_phone", "contacted_recently",
    "other_active_campaign", "already_in_campaign"];

  function renderReport(built, campaignId) {
    const body = $("report-table").querySelector("tbody");
    const line = (text, n, cls, key) => el("tr", { class: cls || "", "data-key": key },
      [el("th", { text: text }), el("td", { text: fmt.num(n) })]);
    body.replaceChildren(
      line(t("Segment members"), built.candidates, "", "candidates"),
      ...REASONS.map((k) => line(label("suppression", k), built.suppression[k] || 0, built.suppression[k] ? "warn" : "", k)),
      line(t("Added as leads"), built.added, "ok", "added"),
    );
    $("campaign-link").href = `/campaigns/${campaignId}`;
    $("report").hidden = false;
  }

  addRow("region");
  loadCampaigns();
  updatePreview();
})();
