// The order-line board: queue tiles, schedule + CSV import, staffing, callbacks, queues, skills.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const fmtPct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%");
  const TZ = { timeZone: "Asia/Seoul", hour12: false };
  const kst = (iso) => new Date(iso).toLocaleString("ko-KR", Object.assign({ dateStyle: "short", timeStyle: "short" }, TZ));
  const hhmm = (iso) => new Date(iso).toLocaleTimeString("ko-KR", Object.assign({ hour: "2-digit", minute: "2-digit" }, TZ));
  const cell = (tr, text, cls) => { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; };
  const showError = (msg) => { const p = $("ib-error"); p.textContent = msg; p.hidden = !msg; };

  async function api(path, options) {
    const resp = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.message || resp.statusText);
    return body;
  }

  function today() {
    const now = new Date(Date.now() + 9 * 3600 * 1000);  // Asia/Seoul
    return now.toISOString().slice(0, 10);
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
      div.querySelector("b").textContent = q.name;
      const kpi = div.querySelector(".kpi");
      kpi.textContent = "응답률 " + fmtPct(sl);
      if (sl !== null && sl < 0.8) kpi.classList.add("bad");
      div.querySelector(".muted").textContent =
        `인입 ${q.offered} · 응답 ${q.answered} · 포기 ${q.abandoned} (${fmtPct(q.abandon_rate)}) · ` +
        `평균 응답 ${q.asa_s === null ? "–" : q.asa_s + "초"} · 콜백 대기 ${q.callbacks_pending}`;
      box.append(div);
    }
  }

  async function schedule() {
    const { items } = await api("/api/v1/inbound/schedule?date=" + $("day").value);
    const body = $("schedule").tBodies[0];
    body.replaceChildren();
    for (const b of items) {
      const tr = body.insertRow();
      cell(tr, kst(b.starts_at)); cell(tr, kst(b.ends_at)); cell(tr, b.title);
      cell(tr, b.products.join(", ")); cell(tr, b.expected_calls.toLocaleString("ko-KR"), "num");
      cell(tr, b.queue);
      const del = document.createElement("button");
      del.type = "button"; del.textContent = "삭제";
      del.addEventListener("click", async () => {
        if (!confirm(`'${b.title}' 방송을 편성표에서 지울까요?`)) return;
        await api(`/api/v1/inbound/schedule/${b.id}`, { method: "DELETE" }).catch((e) => showError(e.message));
        refresh();
      });
      tr.insertCell().append(del);
    }
  }

  async function staffing() {
    const q = `date=${$("day").value}&aht_s=${$("aht").value}&patience_s=${$("patience").value}`;
    const { intervals } = await api("/api/v1/inbound/staffing?" + q);
    const body = $("staffing").tBodies[0];
    body.replaceChildren();
    for (const i of intervals.filter((x) => x.expected_calls >= 0.5)) {
      const tr = body.insertRow();
      cell(tr, hhmm(i.start)); cell(tr, Math.round(i.expected_calls), "num");
      cell(tr, i.agents_needed, "num"); cell(tr, fmtPct(i.service_level), "num");
      cell(tr, fmtPct(i.p_abandon), "num");
    }
  }

  async function callbacks() {
    const { items } = await api("/api/v1/inbound/callbacks");
    const body = $("callbacks").tBodies[0];
    body.replaceChildren();
    const states = { pending: "대기", dialing: "거는 중" };
    for (const c of items) {
      const tr = body.insertRow();
      cell(tr, c.queue); cell(tr, c.phone_e164); cell(tr, kst(c.place_since));
      cell(tr, states[c.status] || c.status); cell(tr, c.attempts, "num");
    }
  }

  async function queuesAndSkills() {
    const kinds = { order: "주문", vip: "VIP", service: "고객센터" };
    const { items } = await api("/api/v1/inbound/queues");
    const body = $("queues").tBodies[0];
    body.replaceChildren();
    for (const q of items) {
      const tr = body.insertRow();
      cell(tr, q.name + (q.is_default ? " (기본)" : "")); cell(tr, kinds[q.kind] || q.kind);
      cell(tr, q.priority, "num"); cell(tr, q.overflow_s, "num"); cell(tr, q.callback_after_s, "num");
      cell(tr, q.numbers.join(", ") + (q.ars ? " · ARS" : ""));
    }
    const skills = await api("/api/v1/inbound/skills");
    const sb = $("skills").tBodies[0];
    sb.replaceChildren();
    for (const s of skills.items) {
      const tr = sb.insertRow();
      cell(tr, s.agent_id); cell(tr, s.queue); cell(tr, s.level, "num");
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
      p.textContent = `${r.imported}건을 넣었습니다. 오류 ${r.errors.length}건.`;
      report.append(p);
      if (r.errors.length) {
        const ul = document.createElement("ul");
        for (const e of r.errors) {
          const li = document.createElement("li");
          li.textContent = `${e.line}번째 줄${e.field ? " (" + e.field + ")" : ""}: ${e.message}`;
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
