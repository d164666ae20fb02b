// The ARS page: the menu (data) as a table, editable as JSON, and the latest ARS calls.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const cell = (tr, text, cls) => { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; };
  const showError = (msg) => { const p = $("ars-error"); p.textContent = msg; p.hidden = !msg; };
  const kst = (iso) => (iso ? new Date(iso).toLocaleString("ko-KR", { timeZone: "Asia/Seoul", hour12: false }) : "");
  const outcomes = { order: "주문 완료", hangup: "주문 없이 종료" };

  async function api(path, options) {
    const resp = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.message || resp.statusText);
    return body;
  }

  function showMenu(menu) {
    $("menu-name").textContent = menu.name;
    $("agent-key").textContent = menu.agent_key;
    const body = $("steps").tBodies[0];
    body.replaceChildren();
    for (const [name, step] of Object.entries(menu.steps)) {
      const tr = body.insertRow();
      cell(tr, name + (name === menu.start ? " (시작)" : ""));
      cell(tr, step.say, "say");
      cell(tr, step.collect ? `${step.collect.digits}자리` : "–");
      cell(tr, step.action);
      cell(tr, Object.entries(step.on).map(([k, v]) => `${k} → ${v}`).join(", "));
    }
    $("menu-json").value = JSON.stringify(menu, null, 2);
  }

  async function load() {
    try {
      showMenu(await api("/api/v1/inbound/ars/menu"));
      const { items } = await api("/api/v1/inbound/ars/sessions");
      const body = $("sessions").tBodies[0];
      body.replaceChildren();
      for (const s of items) {
        const tr = body.insertRow();
        cell(tr, kst(s.started_at)); cell(tr, s.customer_id ?? "모르는 번호");
        cell(tr, (s.path || []).join(" → "));
        const out = s.outcome || "";
        cell(tr, outcomes[out] || (out.startsWith("agent:") ? "상담원 연결 (" + out.slice(6) + ")" : out));
        cell(tr, s.order_id ?? ""); cell(tr, s.total_krw ? s.total_krw.toLocaleString("ko-KR") + "원" : "", "num");
      }
      showError("");
    } catch (e) { showError(e.message); }
  }

  $("menu-save").addEventListener("click", async () => {
    let body;
    try { body = JSON.parse($("menu-json").value); } catch (e) { showError("JSON 형식이 아닙니다: " + e.message); return; }
    if (!confirm("ARS 메뉴를 바꿀까요? 다음 전화부터 새 메뉴로 안내합니다.")) return;
    try {
      showMenu(await api("/api/v1/inbound/ars/menu", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
      $("menu-status").textContent = "저장했습니다.";
      showError("");
    } catch (e) { showError(e.message); }
  });
  $("preview-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("/api/v1/inbound/ars/preview", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ caller: $("pv-caller").value.trim(), keys: $("pv-keys").value.trim() }),
      });
      const list = $("preview-said");
      list.replaceChildren(...r.said.map((s) => { const li = document.createElement("li"); li.textContent = s.text; return li; }));
      let end = `지금 단계: ${r.step}`;
      if (r.outcome) end = r.outcome.startsWith("agent:") ? "상담원 연결 (" + r.outcome.slice(6) + ")" : (outcomes[r.outcome] || r.outcome);
      if (r.would_order) end += ` · 주문 예정: ${r.would_order.qty}개, ${r.would_order.total_krw.toLocaleString("ko-KR")}원 (${r.would_order.payment === "cod" ? "착불" : "등록 카드"})`;
      $("preview-end").textContent = end;
      showError("");
    } catch (e) { showError(e.message); }
  });
  load();
})();
