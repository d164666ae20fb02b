// Supervisor wallboard: polls the dialer's JSON every 1.5 s; charts are hand-drawn SVG.
"use strict";
(function () {
  const POLL_MS = 1500;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const STATES = ["ready", "reserved", "on_call", "wrap_up", "paused", "offline"];
  let ticks = 0;

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  const pct = (x) => (100 * x).toFixed(2) + "%";
  const ms = (x) => (x === null || x === undefined ? "—" : Math.round(x) + " ms");
  const secs = (s) => Math.floor(s / 60) + ":" + String(Math.floor(s % 60)).padStart(2, "0");

  function renderTiles(byState) {
    const box = $("agent-tiles"); box.replaceChildren();
    for (const st of STATES) {
      const tile = el("div", null, { class: "tile", "data-state": st });
      tile.append(el("div", st.replace("_", " "), { class: "muted" }), el("div", byState[st] || 0, { class: "kpi" }));
      box.append(tile);
    }
  }

  function renderCampaigns(list) {
    const body = $("campaigns").querySelector("tbody"); body.replaceChildren();
    for (const c of list) {
      const tr = el("tr", null, { "data-campaign": c.id });
      const rate = el("td", pct(c.abandon_rate) + " / " + pct(c.abandon_cap), { class: "num", "data-role": "abandon" });
      if (c.abandon_rate >= c.abandon_cap) rate.classList.add("over");
      else if (c.abandon_rate >= 0.8 * c.abandon_cap) rate.classList.add("near");
      tr.append(
        el("td", c.name + " (" + c.strategy + ")"), el("td", c.status, { "data-role": "status" }),
        el("td", c.dials, { class: "num", "data-role": "dials" }), el("td", c.live_answers, { class: "num" }),
        el("td", c.connected, { class: "num" }), el("td", c.abandoned, { class: "num" }), rate,
        el("td", pct(c.occupancy), { class: "num" }),
        el("td", ms(c.answer_to_agent_ms.p50) + " / " + ms(c.answer_to_agent_ms.p99), { class: "num" }),
        el("td", ms(c.answer_to_pop_ms.p50) + " / " + ms(c.answer_to_pop_ms.p99), { class: "num" }),
        el("td", c.orders, { class: "num", "data-role": "orders" }),
        el("td", Number(c.revenue_krw).toLocaleString("ko-KR") + "원", { class: "num", "data-role": "revenue" }),
      );
      const act = el("td");
      const running = c.status === "running";
      const btn = el("button", running ? "Pause" : "Start", { type: "button", class: running ? "secondary" : "", "data-action": running ? "pause" : "start" });
      btn.onclick = () => campaignAction(c.id, running ? "pause" : "start", btn);
      act.append(btn); tr.append(act);
      body.append(tr);
    }
    if (!list.length) { const tr = el("tr"); tr.append(el("td", "No running or paused campaign", { colspan: "13" })); body.append(tr); }
  }

  function renderCharts(list, bucketS) {
    const box = $("charts"); box.replaceChildren();
    for (const c of list) {
      const card = el("section", null, { class: "card" });
      card.append(el("h3", c.name + " — dials (bars), live answers (line), abandoned (red) per " + bucketS / 60 + " min"));
      const W = 600, H = 140, pad = 4;
      const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
      const pts = c.series;
      const max = Math.max(1, ...pts.map((p) => p.dials));
      const n = Math.max(pts.length, 12);
      const bw = (W - 2 * pad) / n;
      let line = "";
      pts.forEach((p, i) => {
        const x = pad + i * bw;
        const h = (H - 2 * pad) * p.dials / max;
        chart.append(svg("rect", { class: "dials", x: x + 1, y: H - pad - h, width: Math.max(1, bw - 2), height: h }));
        if (p.abandoned) {
          const ha = (H - 2 * pad) * p.abandoned / max;
          chart.append(svg("rect", { class: "abandoned", x: x + 1, y: H - pad - ha, width: Math.max(1, bw - 2), height: ha }));
        }
        line += (i ? " L" : "M") + (x + bw / 2).toFixed(1) + " " + (H - pad - (H - 2 * pad) * p.live / max).toFixed(1);
      });
      if (line) chart.append(svg("path", { class: "live", d: line }));
      card.append(chart);
      box.append(card);
    }
  }

  function renderAgents(agents, campaigns) {
    const names = Object.fromEntries(campaigns.map((c) => [c.id, c.name]));
    const body = $("agents").querySelector("tbody"); body.replaceChildren();
    for (const a of agents) {
      const tr = el("tr", null, { "data-agent": a.username });
      tr.append(el("td", a.username), el("td", a.state.replace("_", " ") + (a.pause_reason ? " (" + a.pause_reason + ")" : ""), { "data-role": "state" }),
        el("td", secs(a.in_state_s), { class: "num" }), el("td", names[a.campaign_id] || "—"),
        el("td", a.connected ? "connected" : "away"));
      body.append(tr);
    }
  }

  function renderJourneys(list) {
    const body = $("journeys").querySelector("tbody"); body.replaceChildren();
    for (const j of list) {
      const s = j.steps_ms;
      const tr = el("tr", null, { "data-attempt": j.attempt_id });
      tr.append(el("td", "#" + j.attempt_id + (j.mode === "preview" ? " (preview)" : "")), el("td", j.campaign || "—"), el("td", j.outcome || "in progress"));
      for (const k of ["dialed", "ringing", "answered", "agent_connected", "pop_acked", "order_submitted", "order_committed", "ended"]) {
        tr.append(el("td", s[k] === null ? "" : Math.round(s[k]), { class: "num" }));
      }
      body.append(tr);
    }
  }

  async function campaignAction(id, action, btn) {
    btn.disabled = true;
    const resp = await fetch(`/api/v1/campaigns/${id}/${action}`, { method: "POST", credentials: "same-origin" });
    if (!resp.ok) {
      const data = await resp.json().catch(() => ({}));
      showError(data.message || `could not ${action} the campaign`);
    }
    poll();
  }
  function showError(text) { $("wb-error").textContent = text; $("wb-error").hidden = !text; }

  async function poll() {
    try {
      const [wb, js] = await Promise.all([
        fetch("/api/v1/dialer/wallboard", { credentials: "same-origin" }).then((r) => r.json()),
        fetch("/api/v1/dialer/journeys?limit=15", { credentials: "same-origin" }).then((r) => r.json()),
      ]);
      renderTiles(wb.agents_by_state);
      renderCampaigns(wb.campaigns);
      renderCharts(wb.campaigns, wb.bucket_s);
      renderAgents(wb.agents, wb.campaigns);
      renderJourneys(js.journeys);
      ticks += 1;
      $("updated").dataset.ticks = ticks;
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
      showError("");
    } catch (err) {
      showError("wallboard update failed: " + err);
    }
  }
  poll();
  setInterval(poll, POLL_MS);
})();
