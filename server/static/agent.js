// Agent desktop: one websocket to the live dialer; the order form posts to the orders API.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const agentName = $("agent").dataset.agent;
  let ws = null;
  let backoffMs = 250;
  let current = { state: "offline", attempt_id: null, pop: null, since: Date.now(), wrapSince: null };
  let lines = [];
  let orderKey = null;
  let products = [];

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  function notice(text, isError) {
    const box = $("notice");
    box.textContent = text;
    box.className = isError ? "error" : "warn";
    box.hidden = !text;
  }
  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
    notice(t("Not connected to the dialer: reconnecting…"), true);
    return false;
  }
  const fmtTime = fmt.seconds;
  function row1(text) {
    const tr = el("tr");
    tr.append(el("td", text, { colspan: "4", class: "muted" }));
    return tr;
  }
  const krw = fmt.won;

  // --- websocket, reconnecting ------------------------------------------------------------
  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/api/v1/dialer/ws");
    $("conn").textContent = t("Connecting…"); $("conn").dataset.conn = "connecting";
    ws.onopen = () => { backoffMs = 250; $("conn").textContent = t("Connected"); $("conn").dataset.conn = "open"; };
    ws.onmessage = (ev) => handle(JSON.parse(ev.data));
    ws.onclose = () => {
      $("conn").textContent = t("Disconnected: retrying"); $("conn").dataset.conn = "closed";
      setTimeout(connect, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 5000);
    };
  }
  window.telemartAgent = { dropSocket: () => ws && ws.close() };  // used by the browser test

  function handle(msg) {
    if (msg.type === "state") renderState(msg);
    else if (msg.type === "pop") showPop(msg.attempt_id, msg.pop, true);
    else if (msg.type === "error") notice(msg.message, true);
    else if (msg.type === "notice") notice(msg.text, false);
  }

  function renderState(msg) {
    const wasState = current.state;
    current.state = msg.state;
    current.since = Date.now() - (msg.in_state_s || 0) * 1000;
    if (msg.state === "wrap_up" && wasState !== "wrap_up") current.wrapSince = current.since;
    if (msg.state !== "wrap_up") current.wrapSince = null;
    $("state").textContent = label("agent_state", msg.state) + (msg.pause_reason ? " (" + label("pause_reason", msg.pause_reason) + ")" : "");
    $("state").dataset.state = msg.state;
    if (msg.campaign_id) $("campaign").value = String(msg.campaign_id);
    $("preview-mode").checked = !!msg.preview;
    $("preview-panel").hidden = !(msg.preview && msg.state !== "offline");
    renderPreview(msg.preview_lead);
    if (msg.attempt_id && msg.pop) {
      if (current.attempt_id !== msg.attempt_id) showPop(msg.attempt_id, msg.pop, true);
    } else if (!msg.attempt_id && current.attempt_id) {
      endCall();
    }
    $("hangup").disabled = msg.state !== "on_call";
    $("wrap-timer").hidden = msg.state !== "wrap_up";
  }

  function renderPreview(lead) {
    const card = $("preview-card");
    card.replaceChildren();
    $("preview-dial").disabled = !lead;
    $("preview-skip").disabled = !lead;
    if (!lead) { card.textContent = t("No customer shown."); return; }
    const c = lead.pop.customer;
    card.append(el("strong", c.name), el("span", " " + fmt.phone(c.phone) + " · " + (c.region || "")));
    card.append(el("p", tn("{n} earlier order", "{n} earlier orders", lead.pop.orders.length) + " · " +
      tn("{n} earlier call", "{n} earlier calls", lead.pop.contacts.length)));
  }

  // --- the call ---------------------------------------------------------------------------
  function showPop(attemptId, pop, ack) {
    current.attempt_id = attemptId;
    current.pop = pop;
    $("call").hidden = false;
    $("call").dataset.attempt = attemptId;
    $("call-id").textContent = "#" + attemptId;
    const c = pop.customer;
    const kv = $("customer"); kv.replaceChildren();
    for (const [k, v] of [[t("Name"), c.name], [t("Phone"), fmt.phone(c.phone)], [t("Address"), c.address], [t("Postal code"), c.postal_code], [t("Region"), c.region], [t("Email"), c.email]]) {
      kv.append(el("dt", k), el("dd", v || "—"));
    }
    $("source-line").textContent = pop.source_line || "";
    $("script").textContent = (pop.script || "").split("{{agent}}").join(agentName);
    const ob = $("orders-history").querySelector("tbody"); ob.replaceChildren();
    for (const o of pop.orders) {
      const tr = el("tr");
      tr.append(el("td", fmt.day(o.placed_at)), el("td", o.items), el("td", krw(o.total_krw)), el("td", label("order_status", o.status)));
      ob.append(tr);
    }
    if (!pop.orders.length) ob.append(row1(t("No purchases yet")));
    const cb = $("contacts-history").querySelector("tbody"); cb.replaceChildren();
    for (const h of pop.contacts) {
      const tr = el("tr");
      tr.append(el("td", fmt.when(h.at)), el("td", h.campaign || "—"), el("td", label("outcome", h.outcome)), el("td", h.disposition ? label("disposition", h.disposition) : "—"));
      cb.append(tr);
    }
    if (!pop.contacts.length) cb.append(row1(t("First call to this customer")));
    fillProducts(pop.products || []);
    $("d-name").value = c.name || ""; $("d-phone").value = fmt.phone(c.phone) || "";
    $("d-address").value = c.address || ""; $("d-postal").value = c.postal_code || "";
    lines = []; renderLines(); orderKey = null; $("order-result").textContent = "";
    const sel = $("disposition"); sel.replaceChildren();
    for (const d of pop.campaign.dispositions) sel.append(el("option", label("disposition_label", d.label), { value: d.code, "data-callback": d.callback ? "1" : "" }));
    $("callback-mine").parentElement.hidden = !pop.campaign.personal_callbacks;
    toggleCallback();
    $("note").value = "";
    if (ack) send({ type: "ack", attempt_id: attemptId });
  }

  function endCall() {
    current.attempt_id = null; current.pop = null;
    $("call").hidden = true;
    delete $("call").dataset.attempt;
  }

  function fillProducts(list) {
    products = list;
    const sel = $("product"); sel.replaceChildren();
    for (const p of list) {
      for (const s of p.skus) {
        const label = p.name + (s.size ? " " + s.size : "") + (s.color ? " " + s.color : "") +
          " · " + krw(s.price_krw ?? p.broadcast_price_krw ?? p.price_krw) + " · " + t("stock {n}", { n: fmt.num(s.available) });
        const opt = el("option", label, { value: s.id, "data-name": p.name });
        if (s.available <= 0) opt.disabled = true;
        sel.append(opt);
      }
    }
  }
  async function refreshStock() {
    const resp = await fetch("/api/v1/catalog/products?limit=20", { credentials: "same-origin" });
    if (resp.ok) fillProducts((await resp.json()).items);
  }
  function renderLines() {
    const ul = $("lines"); ul.replaceChildren();
    for (const [i, ln] of lines.entries()) {
      const li = el("li", ln.name + " × " + ln.qty + " ");
      const rm = el("button", t("Remove"), { type: "button", class: "secondary" });
      rm.onclick = () => { lines.splice(i, 1); renderLines(); };
      li.append(rm); ul.append(li);
    }
  }
  function addLine() {
    const sel = $("product");
    const opt = sel.selectedOptions[0];
    if (!opt) return;
    const qty = parseInt($("qty").value, 10) || 1;
    lines.push({ sku_id: Number(opt.value), qty: qty, name: opt.textContent.split(" · ")[0] });
    orderKey = null;
    renderLines();
  }
  async function submitOrder(ev) {
    ev.preventDefault();
    if (!current.pop) return;
    if (!lines.length) addLine();
    const body = {
      customer_id: current.pop.customer.id,
      attempt_id: current.attempt_id,
      lines: lines.map((l) => ({ sku_id: l.sku_id, qty: l.qty })),
      delivery: { name: $("d-name").value, phone: $("d-phone").value, address: $("d-address").value, postal_code: $("d-postal").value },
      payment: { method: $("payment").value },
    };
    // One key per order attempt: a retry after a network error cannot order twice.
    orderKey = orderKey || ("call-" + current.attempt_id + "-" + Math.random().toString(36).slice(2));
    $("submit-order").disabled = true;
    $("order-result").textContent = t("Placing the order…");
    const started = performance.now();
    try {
      const resp = await fetch("/api/v1/orders", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Idempotency-Key": orderKey },
        body: JSON.stringify(body),
      });
      const data = await resp.json();
      const ms = performance.now() - started;
      if (resp.ok) {
        $("order-result").textContent = t("Order {id} placed: {total}", { id: data.id, total: krw(data.total_krw) });
        $("order-result").className = "ok";
        $("order-result").dataset.orderId = data.id;
        send({ type: "order", attempt_id: current.attempt_id, order_id: data.id, submit_ms: ms });
        const sale = [...$("disposition").options].find((o) => o.value === "sale");
        if (sale) { $("disposition").value = "sale"; toggleCallback(); }
        lines = []; renderLines();
      } else {
        $("order-result").textContent = data.message || t("The order was refused.");
        $("order-result").className = "error";
      }
    } catch (err) {
      $("order-result").textContent = t("Network error: press again to retry the same order");
      $("order-result").className = "error";
    } finally {
      $("submit-order").disabled = false;
    }
  }
  function toggleCallback() {
    const opt = $("disposition").selectedOptions[0];
    const isCallback = !!(opt && opt.dataset.callback);
    $("callback-fields").hidden = !isCallback;
    if (isCallback && !$("callback-at").value) {
      const t = new Date(Date.now() + 3600 * 1000);
      t.setMinutes(t.getMinutes() - t.getTimezoneOffset());
      $("callback-at").value = t.toISOString().slice(0, 16);
    }
  }
  function dispose() {
    if (!current.attempt_id) return;
    const opt = $("disposition").selectedOptions[0];
    const msg = { type: "disposition", attempt_id: current.attempt_id, code: $("disposition").value, note: $("note").value };
    if (opt && opt.dataset.callback) {
      msg.callback_at = new Date($("callback-at").value).toISOString();
      msg.callback_mine = $("callback-mine").checked;
    }
    const pause = $("then-pause").value;
    if (pause) msg.then_pause = pause;
    send(msg);
  }

  // --- controls -------------------------------------------------------------------------
  $("ready").onclick = () => send({ type: "ready", campaign_id: Number($("campaign").value), preview: $("preview-mode").checked });
  $("pause").onclick = () => send({ type: "pause", reason: $("pause-reason").value });
  $("logout-dialer").onclick = () => send({ type: "logout" });
  $("hangup").onclick = () => current.attempt_id && send({ type: "hangup", attempt_id: current.attempt_id });
  $("dispose").onclick = dispose;
  $("disposition").onchange = toggleCallback;
  $("add-line").onclick = addLine;
  $("refresh-stock").onclick = refreshStock;
  $("order-form").onsubmit = submitOrder;
  $("preview-next").onclick = () => send({ type: "preview_next", campaign_id: Number($("campaign").value) });
  $("preview-dial").onclick = () => send({ type: "preview_dial" });
  $("preview-skip").onclick = () => send({ type: "preview_skip" });
  setInterval(() => {
    $("state-timer").textContent = fmtTime((Date.now() - current.since) / 1000);
    if (current.wrapSince) $("wrap-timer").textContent = t("Wrap-up {time}", { time: fmtTime((Date.now() - current.wrapSince) / 1000) });
  }, 500);
  connect();
})();
