// The ARS page: the menu (data) as a table, editable as JSON, and the latest ARS calls.
// What the caller hears (a step's `say`) is the menu's own text, shown as written.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const cell = (tr, text, cls) => { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; };
  const showError = (msg) => { const p = $("ars-error"); p.textContent = msg; p.hidden = !msg; };

  async function api(path, options) {
    const resp = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(apiError(body, resp.status));
    return body;
  }
  // "order", "hangup", or "agent:<step>:<result>" (why the ARS handed the caller over).
  function outcomeText(out) {
    if (!out) return "";
    if (out.startsWith("agent:")) return t("Handed to an agent ({why})", { why: out.slice(6) });
    return label("ars_outcome", out);
  }

  function showMenu(menu) {
    $("menu-name").textContent = menu.name;
    $("agent-key").textContent = menu.agent_key;
    const body = $("steps").tBodies[0];
    body.replaceChildren();
    for (const [name, step] of Object.entries(menu.steps)) {
      const tr = body.insertRow();
      // Step names and results are the menu's own identifiers (as in its JSON): not words
      // to translate.
      cell(tr, name).translate = false;
      if (name === menu.start) tr.cells[0].append(" " + t("(first)"));
      cell(tr, step.say, "say").translate = false;  // the menu's own words, {fields} and all
      cell(tr, step.collect ? tn("{n} key", "{n} keys", step.collect.digits) : "–");
      cell(tr, label("ars_action", step.action));
      cell(tr, Object.entries(step.on).map(([k, v]) => `${k} → ${v}`).join(", ")).translate = false;
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
        cell(tr, fmt.when(s.started_at)); cell(tr, s.customer_id ?? t("Unknown number"));
        cell(tr, (s.path || []).join(" → "));
        cell(tr, outcomeText(s.outcome));
        cell(tr, s.order_id ?? ""); cell(tr, s.total_krw ? fmt.won(s.total_krw) : "", "num");
      }
      showError("");
    } catch (e) { showError(e.message); }
  }

  $("menu-save").addEventListener("click", async () => {
    let body;
    try { body = JSON.parse($("menu-json").value); } catch (e) {
      showError(t("That is not valid JSON: {detail}", { detail: e.message })); return;
    }
    if (!confirm(t("Change the ARS menu? Callers hear the new menu from the next call."))) return;
    try {
      showMenu(await api("/api/v1/inbound/ars/menu", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
      $("menu-status").textContent = t("Saved.");
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
      let end = r.outcome ? outcomeText(r.outcome) : t("Now at step: {step}", { step: r.step });
      if (r.would_order) {
        end += " · " + t("Would order: {qty} for {total} ({payment})", {
          qty: fmt.num(r.would_order.qty), total: fmt.won(r.would_order.total_krw),
          payment: r.would_order.payment === "cod" ? label("payment", "cod") : t("card on file") });
      }
      $("preview-end").textContent = end;
      showError("");
    } catch (e) { showError(e.message); }
  });
  load();
})();
