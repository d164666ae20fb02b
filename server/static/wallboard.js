// Supervisor wallboard: polls the dialer's JSON every 1.5 s; charts are hand-drawn SVG with
// axes and a legend. Headline: each running campaign's abandon rate against its cap.
"use strict";
(function () {
  const POLL_MS = 1500;
  const NEAR = 0.8;  // the same as CAP_NEAR in server/ws_wallboard.py
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const STATES = ["ready", "reserved", "on_call", "wrap_up", "paused", "offline"];
  const STEPS = ["dialed", "ringing", "answered", "agent_connected", "pop_acked", "order_submitted", "order_committed", "transferred", "ended"];
  let ticks = 0;

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const level = (rate, cap) => (cap > 0 && rate >= cap ? "bad" : cap > 0 && rate >= NEAR * cap ? "warn" : "ok");
  const secs = (ms) => (ms === null || ms === undefined ? "" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1));
  const msText = (x) => (x === null || x === undefined ? "—" : t("{n} ms", { n: Math.round(x) }));

  function tile(cls, title, value, sub, attrs) {
    const box = el("div", null, Object.assign({ class: "tile " + cls }, attrs || {}));
    box.append(el("div", title, { class: "sub" }), el("div", value, { class: "kpi" }));
    if (sub) box.append(el("div", sub, { class: "sub" }));
    return box;
  }

  function renderHeadline(wb) {
    const box = $("headline"); box.replaceChildren();
    for (const c of wb.campaigns.filter((x) => x.status === "running")) {
      const lv = level(c.abandon_rate, c.abandon_cap);
      box.append(tile(lv, t("Abandon rate · {campaign}", { campaign: c.name }),
        fmt.pct(c.abandon_rate, 2), t("cap {cap}", { cap: fmt.pct(c.abandon_cap, 1) }),
        { "data-role": "abandon-tile", "data-campaign": c.id, "data-level": lv }));
    }
    const waitLv = wb.waiting > 0 ? (wb.longest_wait_s >= 1.5 ? "bad" : "warn") : "ok";
    box.append(tile(waitLv, t("Calls waiting for an agent"), fmt.num(wb.waiting),
      t("longest {time}", { time: fmt.seconds(wb.longest_wait_s) }), { id: "waiting-tile", "data-waiting": wb.waiting }));
    const orders = wb.campaigns.reduce((n, c) => n + c.orders, 0);
    const revenue = wb.campaigns.reduce((n, c) => n + c.revenue_krw, 0);
    box.append(tile("ok", t("Orders today"), fmt.num(orders), fmt.won(revenue), { id: "orders-tile" }));
  }

  function renderTiles(byState) {
    const box = $("agent-tiles"); box.replaceChildren();
    for (const st of STATES) {
      box.append(tile("st", label("agent_state", st), fmt.num(byState[st] || 0), null, { "data-state": st }));
    }
  }

  function alertText(a) {
    switch (a.kind) {
      case "cap_over": return t("{campaign}: abandon rate {rate} is over the cap {cap}: the dialer holds back.", { campaign: a.campaign, rate: fmt.pct(a.rate, 2), cap: fmt.pct(a.cap, 1) });
      case "cap_near": return t("{campaign}: abandon rate {rate} is near the cap {cap}.", { campaign: a.campaign, rate: fmt.pct(a.rate, 2), cap: fmt.pct(a.cap, 1) });
      case "desktop_gone": return t("{agent}: the desktop is gone while {state}.", { agent: a.agent, state: label("agent_state", a.state) });
      case "stuck": return t("{agent}: {state} for {time}.", { agent: a.agent, state: label("agent_state", a.state), time: fmt.seconds(a.in_state_s) });
      default: return a.kind;
    }
  }
  function renderAlerts(alerts) {
    const list = $("alert-list"); list.replaceChildren();
    for (const a of alerts) list.append(el("li", alertText(a), { class: a.level, "data-kind": a.kind }));
    if (!alerts.length) list.append(el("li", t("Nothing to look at."), { class: "muted" }));
  }

  function renderCampaigns(list) {
    const body = $("campaigns").querySelector("tbody"); body.replaceChildren();
    for (const c of list) {
      const tr = el("tr", null, { "data-campaign": c.id });
      const lv = level(c.abandon_rate, c.abandon_cap);
      const rate = el("td", fmt.pct(c.abandon_rate, 2) + " / " + fmt.pct(c.abandon_cap, 1), { class: "num", "data-role": "abandon" });
      if (lv === "bad") rate.classList.add("over"); else if (lv === "warn") rate.classList.add("near");
      tr.append(
        el("td", c.name + " (" + label("pacing_strategy", c.strategy) + ")"), el("td", label("campaign_status", c.status), { "data-role": "status", "data-status": c.status }), rate,
        el("td", fmt.num(c.waiting), { class: "num", "data-role": "waiting" }),
        el("td", fmt.num(c.dials), { class: "num", "data-role": "dials" }), el("td", fmt.num(c.live_answers), { class: "num" }),
        el("td", fmt.num(c.connected), { class: "num" }), el("td", fmt.num(c.abandoned), { class: "num" }),
        el("td", fmt.pct(c.occupancy, 0), { class: "num" }),
        el("td", msText(c.answer_to_agent_ms.p50) + " / " + msText(c.answer_to_agent_ms.p99), { class: "num" }),
        el("td", fmt.num(c.orders), { class: "num", "data-role": "orders" }),
        el("td", fmt.won(c.revenue_krw), { class: "num", "data-role": "revenue" }),
      );
      const act = el("td");
      const running = c.status === "running";
      const btn = el("button", running ? label("campaign_action", "pause") : label("campaign_action", "start"),
        { type: "button", class: running ? "secondary" : "", "data-action": running ? "pause" : "start" });
      btn.onclick = () => campaignAction(c, running ? "pause" : "start", btn);
      act.append(btn); tr.append(act);
      body.append(tr);
    }
    if (!list.length) { const tr = el("tr"); tr.append(el("td", t("No running or paused campaign"), { colspan: "13" })); body.append(tr); }
  }

  // A bar chart per campaign with a time axis (site time zone), a count axis and a legend.
  function renderCharts(list, bucketS) {
    const box = $("charts"); box.replaceChildren();
    for (const c of list) {
      const card = el("section", null, { class: "card" });
      card.append(el("h3", t("{campaign}: calls per {minutes} minutes", { campaign: c.name, minutes: bucketS / 60 })));
      const W = 640, H = 190, L = 40, R = 8, T = 8, B = 24;
      const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
        "aria-label": t("Dials, live answers and abandoned calls of {campaign} over time", { campaign: c.name }) });
      const pts = c.series;
      const max = Math.max(1, ...pts.map((p) => p.dials));
      const n = Math.max(pts.length, 12);
      const bw = (W - L - R) / n;
      const y = (v) => H - B - (H - T - B) * v / max;
      chart.append(svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }),
        svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
      for (const v of [0, Math.round(max / 2), max]) {
        chart.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmt.num(v)));
      }
      const every = Math.max(1, Math.ceil(pts.length / 6));
      let line = "";
      pts.forEach((p, i) => {
        const x = L + i * bw;
        chart.append(svg("rect", { class: "dials", x: x + 1, y: y(p.dials), width: Math.max(1, bw - 2), height: H - B - y(p.dials) }));
        if (p.abandoned) chart.append(svg("rect", { class: "abandoned", x: x + 1, y: y(p.abandoned), width: Math.max(1, bw - 2), height: H - B - y(p.abandoned) }));
        line += (i ? " L" : "M") + (x + bw / 2).toFixed(1) + " " + y(p.live).toFixed(1);
        if (i % every === 0) {
          chart.append(svg("text", { x: x + bw / 2, y: H - 6, "text-anchor": "middle" }, fmt.when(p.t * 1000, { timeOnly: true, label: false })));
        }
      });
      if (line) chart.append(svg("path", { class: "live", d: line }));
      card.append(chart);
      const legend = el("ul", null, { class: "legend" });
      for (const [cls, text] of [["#93c5fd", t("Dials")], ["#065f46", t("Live answers")], ["#b91c1c", t("Abandoned")]]) {
        const li = el("li"); const sw = el("span", null, { class: "swatch" }); sw.style.background = cls;
        li.append(sw, document.createTextNode(text)); legend.append(li);
      }
      card.append(legend, el("p", t("Times in {zone}.", { zone: fmt.TZ_LABEL }), { class: "muted" }));
      box.append(card);
    }
  }

  function renderAgents(agents, campaigns) {
    const names = Object.fromEntries(campaigns.map((c) => [c.id, c.name]));
    const body = $("agents").querySelector("tbody"); body.replaceChildren();
    for (const a of agents) {
      const tr = el("tr", null, { "data-agent": a.username });
      const today = a.today || { calls: 0, talk_s: 0, orders: 0 };
      tr.append(el("td", a.username),
        el("td", label("agent_state", a.state) + (a.pause_reason ? " (" + label("pause_reason", a.pause_reason) + ")" : ""), { "data-role": "state", class: "st-" + a.state }),
        el("td", fmt.seconds(a.in_state_s), { class: "num" }), el("td", names[a.campaign_id] || "—"),
        el("td", a.connected ? t("connected") : t("gone"), { "data-role": "desktop" }),
        el("td", fmt.num(today.calls), { class: "num", "data-role": "calls" }),
        el("td", fmt.seconds(today.talk_s), { class: "num", "data-role": "talk" }),
        el("td", fmt.num(today.orders), { class: "num", "data-role": "orders" }),
        monitorCell(a));
      body.append(tr);
    }
    if (!agents.length) { const tr = el("tr"); tr.append(el("td", t("No agent logged in."), { colspan: "9", class: "muted" })); body.append(tr); }
  }

  // --- listen, whisper, barge in (issue 14): the supervisor's own phone on an agent's line ---
  const MODES = ["listen", "whisper", "barge"];
  let me = { phone: false, monitoring: null };  // from the wallboard JSON (this node's dialer)
  let watching = null;     // { agent_id, mode } as this page last set it
  let monitorBusy = false;
  const phoned = new Set();  // campaigns whose dialer was asked to call this phone
  const doingText = (mode) => ({ listen: t("Listening"), whisper: t("Whispering"), barge: t("Barged in") }[mode] || mode);
  function current() { return me.monitoring || watching; }
  function monitorCell(a) {
    const td = el("td", null, { class: "monitor", "data-role": "monitor" });
    const mine = current();
    const on = mine && mine.agent_id === a.agent_id ? mine.mode : null;
    if (on) td.append(el("span", doingText(on), { class: "monitoring", "data-role": "monitor-mode", "data-mode": on }));
    if (a.state === "on_call" || on) {
      for (const mode of MODES) {
        const b = el("button", label("monitor_mode", mode), { type: "button", class: mode === "barge" ? "small danger" : "small secondary",
          "data-mode": mode, "aria-pressed": String(on === mode), "aria-label": t("{mode}: {agent}", { mode: label("monitor_mode", mode), agent: a.username }) });
        b.disabled = monitorBusy || on === mode;
        b.onclick = () => startMonitor(a, mode);
        td.append(b);
      }
    }
    if (on) {
      const stop = el("button", t("Stop"), { type: "button", class: "small", "data-mode": "stop", "aria-label": t("Stop listening to {agent}", { agent: a.username }) });
      stop.disabled = monitorBusy;
      stop.onclick = () => stopMonitor(a);
      td.append(stop);
    }
    if (!td.childNodes.length) td.textContent = "—";
    return td;
  }
  function monitorSay(text, isError) {
    const box = $("monitor-status");
    box.textContent = text;
    box.className = isError ? "error" : "ok";
  }
  async function post(path, body) {
    const resp = await fetch(path, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw Object.assign(new Error(apiError(data, resp.status)), { data: data });
    return data;
  }
  async function startMonitor(a, mode) {
    if (mode === "barge") {
      const ok = await ask(t("Barge in on {agent}'s call?", { agent: a.username }),
        t("The customer and {agent} both hear you from now on.", { agent: a.username }),
        label("monitor_mode", "barge"), true);
      if (!ok) return;
    }
    monitorBusy = true;
    try {
      if (!me.phone && !phoned.has(a.campaign_id)) {  // the dialer calls this supervisor's phone
        await post("/api/v1/dialer/supervisor/phone", { connect: true, campaign_id: a.campaign_id });
        phoned.add(a.campaign_id);
      }
      await post("/api/v1/dialer/monitor", { agent_id: a.agent_id, mode: mode });
      watching = { agent_id: a.agent_id, mode: mode };
      me.monitoring = null;
      monitorSay(t("{doing}: {agent}", { doing: doingText(mode), agent: a.username }), false);
    } catch (err) {
      monitorSay(err.message, true);
      $("monitor-status").title = (err.data && err.data.message) || "";
    } finally {
      monitorBusy = false;
      poll();
    }
  }
  async function stopMonitor(a) {
    monitorBusy = true;
    try {
      await post("/api/v1/dialer/monitor", { agent_id: a.agent_id, mode: null });
      watching = null;
      me.monitoring = null;
      monitorSay(t("You left {agent}'s line.", { agent: a.username }), false);
    } catch (err) {
      monitorSay(err.message, true);
    } finally {
      monitorBusy = false;
      poll();
    }
  }

  function renderJourneys(list) {
    const body = $("journeys").querySelector("tbody"); body.replaceChildren();
    for (const j of list) {
      const s = j.steps_ms;
      const tr = el("tr", null, { "data-attempt": j.attempt_id });
      tr.append(el("td", "#" + j.attempt_id + (j.mode === "preview" ? " " + t("(preview)") : "")), el("td", j.campaign || "—"),
        el("td", j.outcome ? label("outcome", j.outcome) : label("outcome", "in_progress"), { "data-role": "outcome" }));
      for (const k of STEPS) tr.append(el("td", secs(s[k]), { class: "num" }));
      body.append(tr);
    }
  }

  // --- actions, confirmed --------------------------------------------------------------
  function ask(title, text, okLabel, danger) {
    const dialog = $("confirm");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel;
    $("confirm-ok").className = danger ? "danger" : "";
    dialog.showModal();
    return new Promise((resolve) => {
      $("confirm-cancel").onclick = () => { dialog.close(); resolve(false); };
      dialog.oncancel = () => resolve(false);
      $("confirm-form").onsubmit = (e) => { e.preventDefault(); dialog.close(); resolve(true); };
    });
  }
  async function campaignAction(c, action, btn) {
    const ok = await ask(
      action === "pause" ? t("Pause {campaign}?", { campaign: c.name }) : t("Start {campaign}?", { campaign: c.name }),
      action === "pause" ? t("No new calls are dialed; calls in progress finish. Agents stay logged in.")
        : t("The dialer starts calling this campaign's leads."),
      label("campaign_action", action), action === "pause");
    if (!ok) return;
    btn.disabled = true;
    const resp = await fetch(`/api/v1/campaigns/${c.id}/${action}`, { method: "POST", credentials: "same-origin" });
    if (!resp.ok) {
      const data = await resp.json().catch(() => ({}));
      showError(apiError(data, resp.status));
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
      renderHeadline(wb);
      renderTiles(wb.agents_by_state);
      renderAlerts(wb.alerts || []);
      renderCampaigns(wb.campaigns);
      renderCharts(wb.campaigns, wb.bucket_s);
      if (wb.me) {
        me = { phone: !!wb.me.phone, monitoring: wb.me.monitoring };
        if (wb.me.monitoring || wb.me.sure) watching = wb.me.monitoring;
      }
      renderAgents(wb.agents, wb.campaigns);
      renderJourneys(js.journeys);
      ticks += 1;
      $("updated").dataset.ticks = ticks;
      $("updated").textContent = t("updated {time}", { time: fmt.when(new Date(), { timeOnly: true, seconds: true }) });
      showError("");
    } catch (err) {
      showError(t("The wallboard could not update: retrying."));
    }
  }
  poll();
  setInterval(poll, POLL_MS);
})();
