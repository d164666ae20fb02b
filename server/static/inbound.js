// The order-line board: queue tiles, schedule + CSV import, staffing, callbacks, queues, skills.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const cell = (tr, text, cls) => { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; };
  const showError = (msg) => { const p = $("ib-error"); p.textContent = msg; p.hidden = !msg; };
  const secs = (v) => (v === null || v === undefined ? "–" : t("{n} s", { n: fmt.num(v) }));

  async function api(path, options) {
    const resp = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(apiError(body, resp.status));
    return body;
  }

  function today() {
    return fmt.day(new Date());  // the site's day (Asia/Seoul), not the browser's
  }

  // A bad row of the schedule import, by its code (dialer/inbound/schedule.py: RowError).
  const FIELD_WORDS = {
    start: t("start"), end: t("end"), title: t("title"), products: t("products"),
    expected_calls: t("expected calls"), queue: t("queue"),
  };
  function rowError(e) {
    const p = { line: fmt.num(e.line), field: FIELD_WORDS[e.field] || e.field || "", value: e.value ?? "" };
    switch (e.code) {
      case "empty": return t("Line {line}: {field} is empty.", p);
      case "not_a_time": return t("Line {line}: {field} is not a date and time ({value}).", p);
      case "end_before_start": return t("Line {line}: the end must be after the start.", p);
      case "too_long": return t("Line {line}: a broadcast lasts at most {value} hours.", p);
      case "not_a_number": return t("Line {line}: expected calls must be a whole number ({value}).", p);
      case "out_of_range": return t("Line {line}: expected calls must be between 0 and {value}.", p);
      case "bad_products": return t("Line {line}: 1 to {value} product codes, separated by ;.", p);
      case "missing_columns": return t("Line {line}: columns missing: {value}.", p);
      case "overlaps": return t("Line {line}: overlaps the broadcast on line {value}.", p);
      case "overlaps_stored": return t("Line {line}: overlaps a broadcast already in the schedule (#{value}).", p);
      case "no_queue": return t("Line {line}: there is no queue named {value}.", p);
      default: return t("Line {line} ({field}): not accepted.", p);
    }
  }

  async function tiles() {
    const { items } = await api("/api/v1/inbound/stats");
    const box = $("queue-tiles");
    box.replaceChildren();
    for (const q of items) {
      const div = document.createElement("div");
      div.className = "tile";
      const sl = q.service_level;
      div.innerHTML = "<b></b><div class='kpi'></div><div class='muted'></div>";
      div.querySelector("b").textContent = label("inbound_queue", q.name);
      const kpi = div.querySelector(".kpi");
      kpi.textContent = t("Service level {rate}", { rate: fmt.pct(sl) });
      if (sl !== null && sl < 0.8) kpi.classList.add("bad");
      div.querySelector(".muted").textContent = t(
        "offered {offered} · answered {answered} · abandoned {abandoned} ({rate}) · average answer {asa} · callbacks waiting {callbacks}",
        { offered: fmt.num(q.offered), answered: fmt.num(q.answered), abandoned: fmt.num(q.abandoned),
          rate: fmt.pct(q.abandon_rate), asa: secs(q.asa_s), callbacks: fmt.num(q.callbacks_pending) });
      box.append(div);
    }
  }

  async function schedule() {
    const { items } = await api("/api/v1/inbound/schedule?date=" + $("day").value);
    const body = $("schedule").tBodies[0];
    body.replaceChildren();
    for (const b of items) {
      const tr = body.insertRow();
      cell(tr, fmt.when(b.starts_at)); cell(tr, fmt.when(b.ends_at)); cell(tr, b.title);
      cell(tr, b.products.join(", ")); cell(tr, fmt.num(b.expected_calls), "num");
      cell(tr, label("inbound_queue", b.queue));
      const del = document.createElement("button");
      del.type = "button"; del.textContent = t("Delete");
      del.setAttribute("aria-label", t("Delete the broadcast {title}", { title: b.title }));
      del.addEventListener("click", async () => {
        if (!confirm(t("Remove the broadcast '{title}' from the schedule?", { title: b.title }))) return;
        await api(`/api/v1/inbound/schedule/${b.id}`, { method: "DELETE" }).catch((e) => showError(e.message));
        refresh();
      });
      tr.insertCell().append(del);
    }
  }

  async function staffing() {
    const patience = $("patience").value;  // empty: the patience the floor has shown
    const q = `date=${$("day").value}&aht_s=${$("aht").value}` + (patience ? `&patience_s=${patience}` : "");
    const { intervals, patience_s, patience_source, patience_calls } = await api("/api/v1/inbound/staffing?" + q);
    $("patience-note").textContent =
      patience_source === "measured" ? t("{s} s, measured from {n} calls in the last 7 days", { s: fmt.num(Math.round(patience_s)), n: fmt.num(patience_calls) })
      : patience_source === "default" ? t("{s} s, the default: too few calls in the last 7 days to measure", { s: fmt.num(Math.round(patience_s)) })
      : "";
    const body = $("staffing").tBodies[0];
    body.replaceChildren();
    for (const i of intervals.filter((x) => x.expected_calls >= 0.5)) {
      const tr = body.insertRow();
      cell(tr, fmt.when(i.start, { timeOnly: true })); cell(tr, fmt.num(Math.round(i.expected_calls)), "num");
      cell(tr, fmt.num(i.agents_needed), "num"); cell(tr, fmt.pct(i.service_level), "num");
      cell(tr, fmt.pct(i.p_abandon), "num");
    }
  }

  async function callbacks() {
    const { items } = await api("/api/v1/inbound/callbacks");
    const body = $("callbacks").tBodies[0];
    body.replaceChildren();
    for (const c of items) {
      const tr = body.insertRow();
      cell(tr, label("inbound_queue", c.queue)); cell(tr, fmt.phone(c.phone_e164)); cell(tr, fmt.when(c.place_since));
      cell(tr, label("inbound_callback_status", c.status)); cell(tr, fmt.num(c.attempts), "num");
    }
  }

  async function queuesAndSkills() {
    const { items } = await api("/api/v1/inbound/queues");
    const body = $("queues").tBodies[0];
    body.replaceChildren();
    for (const q of items) {
      const tr = body.insertRow();
      cell(tr, label("inbound_queue", q.name) + (q.is_default ? " " + t("(default)") : ""));
      cell(tr, label("inbound_queue_kind", q.kind));
      cell(tr, fmt.num(q.priority), "num"); cell(tr, fmt.num(q.overflow_s), "num"); cell(tr, fmt.num(q.callback_after_s), "num");
      cell(tr, q.numbers.map(fmt.phone).join(", ") + (q.ars ? " · ARS" : ""));
    }
    const skills = await api("/api/v1/inbound/skills");
    const sb = $("skills").tBodies[0];
    sb.replaceChildren();
    for (const s of skills.items) {
      const tr = sb.insertRow();
      cell(tr, s.agent_id); cell(tr, label("inbound_queue", s.queue)); cell(tr, s.level, "num");
    }
  }

  async function refresh() {
    try {
      await Promise.all([tiles(), schedule(), staffing(), callbacks(), queuesAndSkills()]);
      showError("");
    } catch (e) { showError(e.message); }
  }

  $("schedule-import").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = $("schedule-file").files[0];
    if (!file) return;
    const report = $("import-report");
    try {
      const r = await api("/api/v1/inbound/schedule/import", { method: "POST", body: await file.arrayBuffer() });
      report.replaceChildren();
      const p = document.createElement("p");
      p.textContent = tn("{n} broadcast imported, {errors} with errors.", "{n} broadcasts imported, {errors} with errors.",
        r.imported, { errors: fmt.num(r.errors.length) });
      report.append(p);
      if (r.errors.length) {
        const ul = document.createElement("ul");
        for (const e of r.errors) {
          const li = document.createElement("li");
          li.textContent = rowError(e);
          li.title = e.message;  // the server's English, for support
          ul.append(li);
        }
        report.append(ul);
      }
      refresh();
    } catch (e) { showError(e.message); }
  });

  $("queue-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const numbers = $("q-numbers").value.split(",").map((s) => s.trim()).filter(Boolean);
    const body = { kind: $("q-kind").value, priority: Number($("q-priority").value), numbers, ars: $("q-ars").checked };
    try {
      await api("/api/v1/inbound/queues/" + encodeURIComponent($("q-name").value.trim()),
        { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      refresh();
    } catch (e) { showError(e.message); }
  });

  $("skill-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const level = $("s-level").value;
    const body = { agent_id: Number($("s-agent").value), queue: $("s-queue").value.trim(), level: level ? Number(level) : null };
    try {
      await api("/api/v1/inbound/skills", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      refresh();
    } catch (e) { showError(e.message); }
  });

  $("day").value = today();
  for (const id of ["day", "aht", "patience"]) $(id).addEventListener("change", refresh);
  refresh();
  setInterval(() => tiles().catch((e) => showError(e.message)), 5000);
})();
