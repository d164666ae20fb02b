// Logistics board: open a shipment's timeline in place, dispatch, move returns.
// The page works without this file (links and GET forms); this only saves reloads.
"use strict";

(function () {
  const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  // Staff read times in Asia/Seoul, as the server-rendered rows show them.
  const when = (iso) => (iso
    ? new Date(iso).toLocaleString("sv-SE", { timeZone: "Asia/Seoul" }).slice(0, 16) : "");

  async function api(method, url, body) {
    const resp = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.message || `HTTP ${resp.status}`);
    return data;
  }

  function renderTimeline(s) {
    const points = [...s.checkpoints].reverse().map((c) => `
      <li><span class="st st-${esc(c.status)}">${esc(c.status)}</span>
        <time>${esc(when(c.occurred_at))}</time> ${esc(c.location)}
        <span class="muted">${esc(c.message)} · ${esc(c.provider)}</span></li>`).join("");
    const d = s.delivery || {};
    return `<h2>Timeline</h2>
      <p><strong>Shipment ${esc(s.id)}</strong> · order ${esc(s.order_id)} ·
        <span class="st st-${esc(s.status)}">${esc(s.status)}</span><br>
        ${esc(s.carrier_name || "not dispatched")} <span class="mono">${esc(s.tracking_number || "")}</span><br>
        ${esc(d.name)} · <span class="mono">${esc(s.phone || "")}</span><br>
        <span class="muted">${esc(d.address)}</span></p>
      <ol class="timeline">${points || '<li class="muted">No checkpoints yet.</li>'}</ol>`;
  }

  const panel = document.getElementById("timeline");
  document.querySelectorAll("tr[data-shipment]").forEach((row) => {
    row.addEventListener("click", async (event) => {
      if (event.target.closest("a") && !event.target.closest("a").href.includes("shipment=")) return;
      const id = row.dataset.shipment;
      const hasDispatch = row.querySelector(".st-pending") !== null;
      if (hasDispatch) return; // the server page carries the dispatch form: follow the link
      event.preventDefault();
      try {
        panel.innerHTML = renderTimeline(await api("GET", `/api/v1/shipments/${id}`));
        document.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
        row.classList.add("selected");
        const url = new URL(window.location.href);
        url.searchParams.set("shipment", id);
        history.replaceState(null, "", url);
      } catch (err) {
        panel.innerHTML = `<h2>Timeline</h2><p class="error">${esc(err.message)}</p>`;
      }
    });
  });

  const dispatchForm = document.querySelector("form.dispatch");
  if (dispatchForm) {
    dispatchForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = dispatchForm.querySelector(".result");
      const form = new FormData(dispatchForm);
      try {
        await api("POST", `/api/v1/shipments/${dispatchForm.dataset.shipment}/dispatch`, {
          carrier: form.get("carrier"), tracking_number: form.get("tracking_number"),
        });
        window.location.reload();
      } catch (err) {
        out.className = "result error";
        out.textContent = err.message;
      }
    });
  }

  const returnOut = document.getElementById("return-result");
  document.querySelectorAll("tr[data-return] button[data-next]").forEach((button) => {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      try {
        const ret = await api("POST", `/api/v1/returns/${row.dataset.return}/status`,
                              { status: button.dataset.next });
        row.querySelector(".rstatus").textContent = ret.status;
        returnOut.className = "result ok";
        returnOut.textContent = `Return ${ret.id} is now ${ret.status}.`;
        window.location.reload();
      } catch (err) {
        returnOut.className = "result error";
        returnOut.textContent = err.message;
      }
    });
  });
})();
