// Agent desktop: one websocket to the live dialer; the order form posts to the orders API.
// Only the button (or Ctrl+Enter) places an order; the outcome is chosen, confirmed, and the
// screen says that the next call may come. F2 ready, F4 away, F8 hang up.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const agentName = $("agent").dataset.agent;
  const CATALOG_PAGE = 100;
  const DAY_REFRESH_MS = 30000;
  let ws = null;
  let backoffMs = 250;
  let current = { state: "offline", attempt_id: null, pop: null, since: Date.now(), wrapSince: null };
  let lines = [];  // { sku, product, qty }
  let orderKey = null;
  let catalog = [];  // every product, with its SKUs (GET /api/v1/catalog/products)
  let bought = new Set();  // product ids the customer on the line bought before

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  function notice(text, isError, detail) {
    const box = $("notice");
    box.textContent = text;
    box.title = detail || "";  // the dialer's English detail, for support
    box.className = isError ? "error" : "warn";
    box.hidden = !text;
  }
  // What the dialer tells the desktop (dialer/live: desk notices and refusals), by code, in
  // the agent's words; its English text stays as the tooltip. A unit test
  // (tests/unit/server/test_i18n_catalogs.py) fails when the server sends a code not here.
  const NOTICES = {
    // notices
    no_lead: () => t("No customer to call right now."),
    no_live_answer: (m) => m.outcome === "answered_machine"
      ? t("An answering machine answered: you are free for the next call.")
      : t("The customer did not answer ({outcome}): you are free for the next call.", { outcome: label("outcome", m.outcome) }),
    machine: () => t("It was an answering machine: the call was taken off your screen."),
    bridge_failed: () => t("The call could not be connected to your phone: check your headset line."),
    phone_dropped: () => t("Your phone line dropped: save the outcome of the call."),
    transferred: () => t("The call was transferred."),
    // a supervisor's own phone line (monitoring; the wallboard says it too)
    supervisor_phone_down: () => t("Your phone is not connected yet: answer it when it rings, then try again."),
    transferred_in: (m) => (m.from ? t("{name} transferred this call to you.", { name: m.from })
      : t("A call was transferred to you.")),
    customer_hung_up: () => t("The customer hung up: save the outcome."),
    callback_dialing: () => t("Calling back a caller who kept their place: the call comes to you when they answer."),
    call_recovered: () => t("The dialer that served this call stopped: save its outcome."),
    waiting_for_dialer: () => t("Waiting for the dialer to take the campaign…"),
    reconnecting: () => t("Lost the dialer: reconnecting…"),
    reconnected: () => t("The dialer is back."),
    desktop_lost: () => t("The dialer lost sight of this screen: no calls until it is back (no need to reload)."),
    desktop_back: () => t("The dialer sees this screen again: calls come again."),
    // refusals
    no_dialer: () => t("The dialer is reconnecting: try again in a moment."),
    no_campaign: () => t("Choose a campaign and press Ready first."),
    bad_message: () => t("The dialer did not understand the page: reload it."),
    refused: () => t("The dialer refused this."),
    illegal_transition: () => t("Not possible in your current state."),
    not_logged_in: () => t("You are not on the dialer: press Ready first."),
    no_such_call: () => t("That call is no longer yours: it may have ended."),
    dispose_first: () => t("Save the outcome of the last call first."),
    connecting: () => t("A call is being connected to you."),
    unknown_pause_reason: () => t("Choose a reason for the pause."),
    finish_call_first: () => t("Hang up the call first."),
    not_wrapping_up: () => t("The outcome can be saved only after the call."),
    on_another_call: () => t("You are already on another call."),
    unknown_disposition: () => t("Choose one of this campaign's outcomes."),
    callback_needs_time: () => t("A callback needs a date and time."),
    callback_in_past: () => t("The callback time must be in the future."),
    not_in_preview: () => t("Turn on preview mode and press Ready first."),
    no_preview_lead: () => t("There is no customer in preview."),
    preview_first: () => t("Dial or skip the customer in preview first."),
    callback_unavailable: () => t("This callback cannot be called now: it was done, or it is on a call."),
    guard_refused: () => t("This number may not be called now (do-not-call list, consent or calling hours)."),
    guard_do_not_call: () => t("This number is on a do-not-call list: it may not be called."),
    guard_calling_window: () => t("It is outside the calling hours in the customer's time zone: call later."),
    guard_attempts: () => t("This customer has been called as often as allowed for now: call later."),
    guard_no_consent: () => t("This customer has not consented to marketing calls."),
    not_a_customer: () => t("This number is not one of our customers: register the customer first."),
    lead_busy: () => t("Another agent or the dialer is calling this customer now."),
  };
  function dialerText(msg) {
    const say = NOTICES[msg.code];
    if (say) return say(msg);
    return msg.type === "error" ? t("The dialer refused this.") : t("A message from the dialer (hover for details).");
  }
  function announce(text) { $("announce").textContent = ""; setTimeout(() => { $("announce").textContent = text; }, 30); }
  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
    notice(t("Not connected to the dialer: reconnecting…"), true);
    return false;
  }
  const fmtTime = fmt.seconds;
  function row1(text, cols) {
    const tr = el("tr");
    tr.append(el("td", text, { colspan: String(cols || 4), class: "muted" }));
    return tr;
  }
  const krw = fmt.won;

  // --- websocket, reconnecting ------------------------------------------------------------
  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/api/v1/dialer/ws");
    $("conn").textContent = t("Connecting…"); $("conn").dataset.conn = "connecting";
    ws.onopen = () => {
      backoffMs = 250; $("conn").textContent = t("Connected"); $("conn").dataset.conn = "open";
      $("conn").dataset.opened = String(Number($("conn").dataset.opened || 0) + 1);  // for tests: a reconnect shows
    };
    ws.onmessage = (ev) => handle(JSON.parse(ev.data));
    ws.onclose = async () => {
      $("conn").textContent = t("Disconnected: retrying"); $("conn").dataset.conn = "closed";
      // A session that ended (idle timeout, a password change, revoked) cannot reconnect:
      // the login page says so, and brings the agent back here.
      const me = await fetch("/api/v1/auth/me", { credentials: "same-origin" }).catch(() => null);
      if (me && me.status === 401) { location.assign("/login?next=/agent&expired=1"); return; }
      setTimeout(connect, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 5000);
    };
  }
  // Other scripts of the desktop (agent_controls.js, loaded before this one) see every
  // message first; one that returns true has handled it.
  const hooks = window.telemartAgentHooks || [];
  window.telemartAgent = {
    dropSocket: () => ws && ws.close(),  // used by the browser test
    send: (msg) => send(msg),
  };

  function handle(msg) {
    if (hooks.some((fn) => fn(msg) === true)) return;
    if (msg.type === "state") renderState(msg);
    else if (msg.type === "pop") showPop(msg.attempt_id, msg.pop, true);
    else if (msg.type === "error") notice(dialerText(msg), true, msg.message);
    else if (msg.type === "notice") notice(dialerText(msg), false, msg.text);
    else if (msg.type === "closed") refreshDay();  // the call's attempt and callback are saved
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
    if (current.wrapSince) $("wrap-timer").textContent = t("Wrap-up {time}", { time: fmtTime((Date.now() - current.wrapSince) / 1000) });
    renderIdle();
    if (wasState !== msg.state && (msg.state === "ready" || msg.state === "paused")) refreshDay();
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

  // --- when no call is up: what the agent is waiting for, their day, their callbacks -----
  function renderIdle() {
    const onCall = !!current.attempt_id;
    $("idle").hidden = onCall;
    const st = current.state;
    const title = { ready: t("Waiting for the next call"), paused: t("Away"), reserved: t("A call is being connected…"),
      offline: t("Not taking calls"), wrap_up: t("Wrap-up"), on_call: t("On a call") }[st] || label("agent_state", st);
    $("idle-title").textContent = title;
    $("idle-text").textContent = {
      ready: t("The next call comes to this screen by itself, with the customer's details and the script."),
      paused: t("No calls come while you are away. Press Ready to take calls again."),
      offline: t("Choose the campaign and press Ready: calls come to this screen with the customer's details."),
    }[st] || "";
  }
  async function refreshDay() {
    try {
      const resp = await fetch("/api/v1/agent/today", { credentials: "same-origin" });
      if (!resp.ok) return;
      const day = await resp.json();
      const box = $("my-day");
      box.querySelector("[data-key=calls]").textContent = fmt.num(day.calls);
      box.querySelector("[data-key=talk]").textContent = fmt.seconds(day.talk_s);
      box.querySelector("[data-key=orders]").textContent = fmt.num(day.orders);
    } catch (err) { /* shown again on the next refresh */ }
    refreshCallbacks();
  }
  async function refreshCallbacks() {
    try {
      const resp = await fetch("/api/v1/agent/callbacks", { credentials: "same-origin" });
      if (!resp.ok) return;
      const data = await resp.json();
      const body = $("my-callbacks").querySelector("tbody");
      body.replaceChildren();
      const now = Date.now();
      for (const cb of data.callbacks) {
        const tr = el("tr", null, { "data-lead": cb.lead_id });
        const due = Date.parse(cb.callback_at) <= now;
        const when = el("td", fmt.when(cb.callback_at) + (due ? " · " + t("due") : ""), due ? { class: "due" } : {});
        const call = el("button", t("Call now"), { type: "button", class: "small", "data-role": "call-callback",
          "aria-label": t("Call {customer} now", { customer: cb.customer }) });
        call.onclick = () => callCallback(cb);
        const act = el("td"); act.append(call);
        tr.append(when, el("td", cb.customer), el("td", fmt.phone(cb.phone)), el("td", cb.campaign), act);
        body.append(tr);
      }
      if (!data.callbacks.length) body.append(row1(t("No callbacks."), 5));
    } catch (err) { /* shown again on the next refresh */ }
  }
  // A callback from the list, now: it comes up in the preview panel (the dialer leases it and
  // the compliance guard screens it); Dial calls it.
  function callCallback(cb) {
    if (current.state !== "ready" || !$("preview-mode").checked) {
      notice(t("Turn on preview mode and press Ready first."), true); return;
    }
    if (String(cb.campaign_id) !== $("campaign").value) {
      notice(t("This callback belongs to another campaign: choose that campaign and press Ready first."), true); return;
    }
    send({ type: "preview_next", lead_id: cb.lead_id });
  }
  $("lookup-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("lookup-result");
    out.replaceChildren();
    const phone = $("lookup-phone").value.trim();
    if (!phone) return;
    const resp = await fetch("/api/v1/agent/lookup?phone=" + encodeURIComponent(phone), { credentials: "same-origin" });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { out.append(el("p", apiError(data, resp.status), { class: "error" })); return; }
    const c = data.customer;
    out.append(el("p", fmt.phone(data.phone), { class: "kpi" }));
    if (c) {
      out.append(el("p", c.name + (c.region ? " · " + c.region : "")));
      out.append(el("p", (c.consent_marketing ? t("Marketing consent: yes") : t("Marketing consent: no")) + " · " +
        (c.consent_night ? t("Night-time consent: yes") : t("Night-time consent: no"))));
    } else {
      out.append(el("p", t("Not one of our customers."), { class: "muted" }));
    }
    out.append(data.dnc ? el("p", t("On a do-not-call list: never call this number."), { class: "error", "data-role": "dnc" })
      : el("p", t("Not on a do-not-call list."), { class: "ok", "data-role": "dnc" }));
    // Shown for any number: the dialer (not the page) decides, and says why it refuses.
    const call = el("button", t("Call"), { type: "button", class: "small", "data-role": "dial-by-hand",
      "aria-label": t("Call {phone} now", { phone: fmt.phone(data.phone) }) });
    call.onclick = () => dialByHand(data.phone);
    out.append(call);
  });
  // A number dialled by hand: its customer's lead in this campaign comes up in the preview
  // panel (leased to the agent, screened by the compliance guard); Dial calls it.
  function dialByHand(phone) {
    if (current.state !== "ready" || !$("preview-mode").checked) {
      notice(t("Turn on preview mode and press Ready first."), true); return;
    }
    send({ type: "preview_next", phone: phone });
  }

  // --- the call ---------------------------------------------------------------------------
  function showPop(attemptId, pop, ack) {
    current.attempt_id = attemptId;
    current.pop = pop;
    $("call").hidden = false;
    $("idle").hidden = true;
    $("saved-banner").hidden = true;
    $("call").dataset.attempt = attemptId;
    $("call-id").textContent = t("call {id}", { id: attemptId });
    const c = pop.customer;
    $("call-name").textContent = c.name || (pop.inbound ? t("Unknown caller") : "");
    showInbound(pop.inbound);
    const kv = $("customer"); kv.replaceChildren();
    for (const [k, v] of [[t("Phone"), fmt.phone(c.phone)], [t("Address"), c.address], [t("Postal code"), c.postal_code], [t("Region"), c.region], [t("Email"), c.email]]) {
      kv.append(el("dt", k), el("dd", v || "—"));
    }
    $("source-line").textContent = pop.source_line || "";
    $("script").textContent = (pop.script || "").split("{{agent}}").join(agentName);
    const ob = $("orders-history").querySelector("tbody"); ob.replaceChildren();
    for (const o of pop.orders) ob.append(orderRow(o, false));
    if (!pop.orders.length) ob.append(row1(t("No purchases yet")));
    const cb = $("contacts-history").querySelector("tbody"); cb.replaceChildren();
    for (const h of pop.contacts) {
      const tr = el("tr");
      tr.append(el("td", fmt.when(h.at)), el("td", h.campaign || "—"), el("td", label("outcome", h.outcome)), el("td", h.disposition ? label("disposition", h.disposition) : "—"));
      cb.append(tr);
    }
    if (!pop.contacts.length) cb.append(row1(t("First call to this customer")));
    bought = new Set(pop.bought_product_ids || []);
    if (!catalog.length && pop.products) catalog = pop.products;
    $("product-search").value = "";
    renderProducts();
    $("d-name").value = c.name || ""; $("d-phone").value = fmt.phone(c.phone) || "";
    $("d-address").value = c.address || ""; $("d-postal").value = c.postal_code || "";
    lines = []; renderLines(); orderKey = null;
    $("order-result").textContent = ""; $("order-result").className = "";
    const sel = $("disposition"); sel.replaceChildren();
    sel.append(el("option", t("— choose the outcome —"), { value: "" }));  // no outcome by default
    for (const d of pop.campaign.dispositions) sel.append(el("option", label("disposition_label", d.label), { value: d.code, "data-callback": d.callback ? "1" : "" }));
    $("callback-mine").parentElement.hidden = !pop.campaign.personal_callbacks;
    toggleCallback();
    $("note").value = "";
    $("then-pause").value = "";
    $("dispose-error").hidden = true;
    if (ack) send({ type: "ack", attempt_id: attemptId });
    // The call takes the agent's attention: focus its heading and say who it is.
    $("call-heading").focus();
    announce(t("New call: {name}, {phone}.", { name: c.name || (pop.inbound ? t("Unknown caller") : t("Customer")), phone: fmt.phone(c.phone) }));
  }

  // An inbound caller: the queue they called, how long they waited, what is on air now.
  function showInbound(info) {
    const box = $("inbound-info");
    box.replaceChildren();
    box.hidden = !info;
    if (!info) return;
    box.append(el("span", t("Inbound call: {queue}", { queue: label("inbound_queue", info.queue) }), { class: "badge", "data-role": "queue" }));
    box.append(el("span", t("Waited {s} s", { s: Math.round(info.waited_s || 0) }), { "data-role": "waited" }));
    if (info.callback) box.append(el("span", t("Called back: the caller kept their place"), { "data-role": "callback" }));
    if (info.unknown_caller) box.append(el("span", info.caller_withheld ? t("Number withheld") : t("Unknown caller: not one of our customers"), { class: "warn", "data-role": "unknown" }));
    if (info.on_air) {
      const names = (info.on_air.products || []).map((p) => p.name + " " + krw(p.broadcast_price_krw ?? p.price_krw)).join(", ");
      box.append(el("p", t("On air now: {title}", { title: info.on_air.title }) + (names ? " — " + names : ""), { "data-role": "on-air" }));
    }
  }

  function orderRow(o, fresh) {
    const tr = el("tr", null, fresh ? { class: "just-placed", "data-order": o.id } : { "data-order": o.id });
    tr.append(el("td", fresh ? t("just now") : fmt.day(o.placed_at)), el("td", o.items), el("td", krw(o.total_krw)), el("td", label("order_status", o.status)));
    return tr;
  }

  function endCall() {
    current.attempt_id = null; current.pop = null;
    $("call").hidden = true;
    delete $("call").dataset.attempt;
    renderIdle();
  }

  // --- the catalog: every product, searchable; on air and bought before first -------------
  async function loadCatalog() {
    const all = [];
    let cursor = "";
    for (let page = 0; page < 50; page++) {
      const resp = await fetch(`/api/v1/catalog/products?limit=${CATALOG_PAGE}` + (cursor ? `&cursor=${cursor}` : ""), { credentials: "same-origin" });
      if (!resp.ok) return;
      const data = await resp.json();
      all.push(...data.items);
      if (!data.next) break;
      cursor = data.next;
    }
    catalog = all;
    if (current.pop) renderProducts();
  }
  // On air: the broadcast price applies now (the same rule as orders/capture.py).
  function onAir(p) {
    if (p.broadcast_price_krw === null || p.broadcast_price_krw === undefined) return false;
    const now = Date.now();
    return (!p.broadcast_from || Date.parse(p.broadcast_from) <= now) && (!p.broadcast_until || now < Date.parse(p.broadcast_until));
  }
  // The SKU's price as the server computed it (broadcast price on air, else the SKU's own or
  // the product's).
  function unitPrice(p, s) { return s.price_krw ?? p.price_krw; }
  function skuName(p, s) { return p.name + (s.size ? " " + s.size : "") + (s.color ? " " + s.color : ""); }
  function rank(p) { return onAir(p) ? 0 : bought.has(p.id) ? 1 : 2; }
  function matches(p, s, words) {
    const hay = [p.name, p.code, s.code, s.size, s.color, p.category].join(" ").toLowerCase();
    return words.every((w) => hay.includes(w));
  }
  function renderProducts() {
    const words = $("product-search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const list = $("product-list"); list.replaceChildren();
    const products = [...catalog].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, "ko"));
    let shown = 0;
    for (const p of products) {
      for (const s of p.skus) {
        if (!matches(p, s, words)) continue;
        shown += 1;
        const li = el("li", null, { "data-sku": s.id, "data-product": p.id, class: s.available > 0 ? "" : "out" });
        const what = el("span", skuName(p, s), { class: "what" });
        if (onAir(p)) what.append(el("span", t("on air"), { class: "tag onair" }));
        if (bought.has(p.id)) what.append(el("span", t("bought before"), { class: "tag bought" }));
        if (p.per_customer_limit) what.append(el("span", t("limit {n} per customer", { n: p.per_customer_limit }), { class: "tag limit" }));
        const add = el("button", t("Add"), { type: "button", class: "secondary small", "aria-label": t("Add {name}", { name: skuName(p, s) }) });
        add.disabled = s.available <= 0;
        add.onclick = () => addLine(p, s);
        li.append(what, el("span", krw(unitPrice(p, s)), { class: "price" }),
          el("span", s.available > 0 ? t("stock {n}", { n: fmt.num(s.available) }) : t("sold out"), { class: "muted" }), add);
        list.append(li);
      }
    }
    if (!shown) list.append(el("li", t("No product matches."), { class: "muted" }));
  }
  async function refreshStock() {
    await loadCatalog();
    renderProducts();
  }

  function addLine(p, s) {
    const found = lines.find((l) => l.sku.id === s.id);
    if (found) found.qty += 1; else lines.push({ sku: s, product: p, qty: 1 });
    orderKey = null;
    renderLines();
  }
  function limitProblems() {
    const perProduct = new Map();
    for (const l of lines) perProduct.set(l.product.id, (perProduct.get(l.product.id) || 0) + l.qty);
    const problems = [];
    for (const l of lines) {
      const limit = l.product.per_customer_limit;
      if (limit && perProduct.get(l.product.id) > limit) problems.push({ product: l.product, limit: limit });
    }
    return problems;
  }
  function renderLines() {
    const body = $("lines").querySelector("tbody"); body.replaceChildren();
    let total = 0;
    for (const [i, ln] of lines.entries()) {
      const price = unitPrice(ln.product, ln.sku);
      total += price * ln.qty;
      const tr = el("tr", null, { "data-sku": ln.sku.id });
      const qty = el("input", null, { type: "number", min: "1", max: String(Math.max(1, ln.sku.available)), value: String(ln.qty),
        "aria-label": t("Quantity of {name}", { name: skuName(ln.product, ln.sku) }), "data-role": "qty" });
      qty.oninput = () => {
        const n = parseInt(qty.value, 10);
        if (n > 0) { ln.qty = n; orderKey = null; updateTotals(); }
      };
      const rm = el("button", t("Remove"), { type: "button", class: "secondary small" });
      rm.onclick = () => { lines.splice(i, 1); orderKey = null; renderLines(); };
      const qtyCell = el("td", null, { class: "num" }); qtyCell.append(qty);
      const rmCell = el("td"); rmCell.append(rm);
      tr.append(el("td", skuName(ln.product, ln.sku)), el("td", krw(price), { class: "num" }), qtyCell,
        el("td", krw(price * ln.qty), { class: "num", "data-role": "amount" }), rmCell);
      body.append(tr);
    }
    if (!lines.length) body.append(row1(t("Add products from the list above."), 5));
    updateTotals();
  }
  function updateTotals() {
    let total = 0;
    for (const tr of $("lines").querySelectorAll("tbody tr[data-sku]")) {
      const ln = lines.find((l) => String(l.sku.id) === tr.dataset.sku);
      const amount = unitPrice(ln.product, ln.sku) * ln.qty;
      total += amount;
      tr.querySelector("[data-role=amount]").textContent = krw(amount);
    }
    $("order-total").textContent = krw(total);
    $("order-total").dataset.total = String(total);
    const problems = limitProblems();
    $("limit-note").hidden = !problems.length;
    $("limit-note").textContent = problems.map((p) => t("{name}: at most {n} per customer.", { name: p.product.name, n: p.limit })).join(" ");
    $("submit-order").disabled = !lines.length || problems.length > 0 || !current.pop;
  }

  async function submitOrder() {
    if (!current.pop || !lines.length || $("submit-order").disabled) return;
    const body = {
      customer_id: current.pop.customer.id,
      attempt_id: current.attempt_id,
      lines: lines.map((l) => ({ sku_id: l.sku.id, qty: l.qty })),
      delivery: { name: $("d-name").value, phone: $("d-phone").value, address: $("d-address").value, postal_code: $("d-postal").value },
      payment: { method: $("payment").value },
    };
    // One key per order attempt: a retry after a network error cannot order twice.
    orderKey = orderKey || ("call-" + current.attempt_id + "-" + Math.random().toString(36).slice(2));
    $("submit-order").disabled = true;
    $("order-result").textContent = t("Placing the order…");
    $("order-result").className = "";
    const started = performance.now();
    const placedLines = lines.slice();
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
        // The order just placed is one of the customer's purchases now.
        const ob = $("orders-history").querySelector("tbody");
        const empty = ob.querySelector("td[colspan]");
        if (empty) empty.parentElement.remove();
        ob.prepend(orderRow({ id: data.id, placed_at: data.placed_at, status: data.status || "placed", total_krw: data.total_krw,
          items: placedLines.map((l) => skuName(l.product, l.sku) + " x" + l.qty).join(", ") }, true));
        for (const l of placedLines) bought.add(l.product.id);
        const sale = [...$("disposition").options].find((o) => o.value === "sale");
        if (sale && !$("disposition").value) { $("disposition").value = "sale"; toggleCallback(); }
        lines = []; orderKey = null; renderLines();
        announce($("order-result").textContent);
      } else {
        $("order-result").textContent = apiError(data, resp.status);
        $("order-result").title = data.message || "";
        $("order-result").className = "error";
        updateTotals();
      }
    } catch (err) {
      $("order-result").textContent = t("Network error: press again to retry the same order");
      $("order-result").className = "error";
      updateTotals();
    }
  }
  // No keystroke in the form places an order: Enter does nothing here.
  $("order-form").addEventListener("submit", (event) => event.preventDefault());
  $("order-form").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !(event.ctrlKey || event.metaKey) && event.target.tagName === "INPUT") event.preventDefault();
  });
  $("submit-order").addEventListener("click", submitOrder);

  function toggleCallback() {
    const opt = $("disposition").selectedOptions[0];
    const isCallback = !!(opt && opt.dataset.callback);
    $("callback-fields").hidden = !isCallback;
    if (isCallback && !$("callback-at").value) {
      const at = new Date(Date.now() + 3600 * 1000);
      at.setMinutes(at.getMinutes() - at.getTimezoneOffset());
      $("callback-at").value = at.toISOString().slice(0, 16);
    }
  }

  // Saving the outcome ends the call on this screen: say so, and ask first.
  function askDispose(text, next) {
    const dialog = $("confirm-dispose");
    $("confirm-dispose-text").textContent = text;
    $("confirm-dispose-next").textContent = next;
    dialog.showModal();
    return new Promise((resolve) => {
      $("confirm-dispose-cancel").onclick = () => { dialog.close(); resolve(false); };
      dialog.oncancel = () => resolve(false);
      $("confirm-dispose-form").onsubmit = (e) => { e.preventDefault(); dialog.close(); resolve(true); };
    });
  }
  async function dispose() {
    if (!current.attempt_id) return;
    const code = $("disposition").value;
    const err = $("dispose-error");
    if (!code) {
      err.textContent = t("Choose the outcome first.");
      err.hidden = false;
      $("disposition").focus();
      return;
    }
    err.hidden = true;
    const opt = $("disposition").selectedOptions[0];
    const msg = { type: "disposition", attempt_id: current.attempt_id, code: code, note: $("note").value };
    if (opt && opt.dataset.callback) {
      msg.callback_at = new Date($("callback-at").value).toISOString();
      msg.callback_mine = $("callback-mine").checked;
    }
    const pause = $("then-pause").value;
    if (pause) msg.then_pause = pause;
    const ok = await askDispose(
      t("Outcome: {outcome}.", { outcome: opt.textContent }) + (msg.callback_at ? " " + t("Call back at {time}.", { time: fmt.when(msg.callback_at) }) : ""),
      pause ? t("Afterwards you are away ({reason}): no new call comes.", { reason: label("pause_reason", pause) })
        : t("Afterwards you are ready: the next call may come at once."));
    if (!ok) return;
    const customer = current.pop ? current.pop.customer.name : "";
    if (!send(msg)) return;
    const banner = $("saved-banner");
    banner.textContent = pause ? t("Saved the outcome for {name}. You are away now.", { name: customer })
      : t("Saved the outcome for {name}. Waiting for the next call.", { name: customer });
    banner.hidden = false;
    announce(banner.textContent);
  }

  // --- controls and shortcuts -------------------------------------------------------------
  const goReady = () => send({ type: "ready", campaign_id: Number($("campaign").value), preview: $("preview-mode").checked });
  const goAway = () => send({ type: "pause", reason: $("pause-reason").value });
  const hangUp = () => current.attempt_id && current.state === "on_call" && send({ type: "hangup", attempt_id: current.attempt_id });
  $("ready").onclick = goReady;
  $("pause").onclick = goAway;
  $("logout-dialer").onclick = () => send({ type: "logout" });
  $("hangup").onclick = hangUp;
  $("dispose").onclick = dispose;
  $("disposition").onchange = () => { toggleCallback(); $("dispose-error").hidden = true; };
  $("refresh-stock").onclick = refreshStock;
  $("product-search").addEventListener("input", renderProducts);
  $("preview-next").onclick = () => send({ type: "preview_next", campaign_id: Number($("campaign").value) });
  $("preview-dial").onclick = () => send({ type: "preview_dial" });
  $("preview-skip").onclick = () => send({ type: "preview_skip" });
  document.addEventListener("keydown", (event) => {
    if (document.querySelector("dialog[open]")) return;
    if (event.key === "F2") { event.preventDefault(); goReady(); }
    else if (event.key === "F4") { event.preventDefault(); goAway(); }
    else if (event.key === "F8") { event.preventDefault(); hangUp(); }
    else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && current.pop) { event.preventDefault(); submitOrder(); }
  });
  setInterval(() => {
    $("state-timer").textContent = fmtTime((Date.now() - current.since) / 1000);
    if (current.wrapSince) $("wrap-timer").textContent = t("Wrap-up {time}", { time: fmtTime((Date.now() - current.wrapSince) / 1000) });
  }, 500);
  setInterval(refreshDay, DAY_REFRESH_MS);
  renderLines();
  renderIdle();
  refreshDay();
  loadCatalog();
  connect();
})();
