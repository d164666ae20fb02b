// Agent desktop, call controls (issue 14): hold / resume, mute / unmute, transfer to an
// agent who can take the call (picked and confirmed), next to Hang up (F8, agent.js): the
// desk lists them, ready on the same campaign or, for an inbound call, skilled for its queue.
// Loaded before agent.js: it sees the websocket's messages first (window.telemartAgentHooks)
// and sends through window.telemartAgent. The desk says what holds: the state message
// carries `held` and `muted`, so a reloaded desktop shows them too.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  if (!$("call-controls")) return;
  let call = { state: "offline", attempt_id: null, held: false, muted: false };
  let pending = null;  // { action, name? }: the control sent, until the desk answers
  let targets = [];    // [{ agent_id, username }] ready on the campaign, from the desk

  function send(msg) { return window.telemartAgent && window.telemartAgent.send(msg); }
  function say(text, isError, detail) {
    const box = $("notice");
    box.textContent = text;
    box.className = isError ? "error" : "warn";
    box.title = detail || "";
    box.hidden = !text;
  }
  function announce(text) { $("announce").textContent = ""; setTimeout(() => { $("announce").textContent = text; }, 30); }

  // --- what shows ------------------------------------------------------------------------
  function render() {
    const live = call.state === "on_call" && !!call.attempt_id;
    const busy = pending !== null;
    $("hold").textContent = call.held ? t("Resume") : t("Hold");
    $("hold").setAttribute("aria-pressed", String(call.held));
    $("mute").textContent = call.muted ? t("Unmute") : t("Mute");
    $("mute").setAttribute("aria-pressed", String(call.muted));
    for (const id of ["hold", "mute", "transfer"]) $(id).disabled = !live || busy;
    const flags = $("call-flags");
    flags.replaceChildren();
    if (live && call.held) flags.append(badge(t("On hold"), "held"));
    if (live && call.muted) flags.append(badge(t("Muted"), "muted"));
    $("call-controls").dataset.held = String(live && call.held);
    $("call-controls").dataset.muted = String(live && call.muted);
  }
  function badge(text, kind) {
    const node = document.createElement("span");
    node.className = "badge flag-" + kind;
    node.dataset.flag = kind;
    node.textContent = text;
    return node;
  }

  // --- the desk's answers, in the page's language ----------------------------------------
  function refusal(msg) {
    const action = pending ? pending.action : null;
    switch (msg.code) {
      case "no_such_call": return t("This call is no longer yours: it ended or was transferred.");
      case "illegal_transition":
        if (action === "transfer") return t("That agent cannot take this call now: choose another.");
        return t("Not possible in the current state of the call.");
      case "refused":  // telephony refused (TelephonyError)
        return t("The phone system could not do it: try again, or hang up and call back.");
      case "not_logged_in": return t("You are not on the dialer: press Ready first.");
      default: return t("The call control failed: try again.");
    }
  }
  const DONE = {
    hold: () => t("The customer is on hold."), resume: () => t("The customer is back on the line."),
    mute: () => t("Muted: the customer does not hear you."), unmute: () => t("Unmuted: the customer hears you."),
  };

  function hook(msg) {
    if (msg.type === "state") {
      call = { state: msg.state, attempt_id: msg.attempt_id, held: !!msg.held, muted: !!msg.muted };
      if (!msg.attempt_id) pending = null;
      render();
      return false;  // agent.js shows the state and the call as ever
    }
    if (msg.type === "control") {
      const done = DONE[msg.action];
      if (done) announce(done());
      if (msg.action !== "transfer") pending = null;
      render();
      return true;
    }
    if (msg.type === "transfer_targets") { showTargets(msg.agents || []); return true; }
    if (msg.type === "error" && (msg.for === "control" || msg.for === "transfer_targets")) {
      say(refusal(msg), true, msg.message);
      pending = null;
      render();
      return true;
    }
    if (msg.type === "notice" && msg.code === "transferred") {
      const name = pending && pending.name;
      const text = name ? t("The call went to {name}. You are free for the next call.", { name: name })
        : t("The call was transferred. You are free for the next call.");
      pending = null;
      say(text, false);
      announce(text);
      render();
      return true;
    }
    return false;
  }
  (window.telemartAgentHooks = window.telemartAgentHooks || []).push(hook);

  // --- hold, mute ------------------------------------------------------------------------
  function control(action, extra) {
    if (call.state !== "on_call" || !call.attempt_id || pending) return;
    pending = Object.assign({ action: action }, extra || {});
    const msg = { type: "control", attempt_id: call.attempt_id, action: action };
    if (extra && extra.to) msg.to_agent_id = extra.to;
    if (!send(msg)) pending = null;
    render();
  }
  $("hold").onclick = () => control(call.held ? "resume" : "hold");
  $("mute").onclick = () => control(call.muted ? "unmute" : "mute");

  // --- transfer: ask the desk who is ready, pick one, confirm ----------------------------
  const dialog = $("transfer-dialog");
  $("transfer").onclick = () => {
    if (call.state !== "on_call" || !call.attempt_id || pending) return;
    $("transfer-to").replaceChildren();
    $("transfer-none").hidden = true;
    $("transfer-text").textContent = t("Looking for agents who are ready…");
    $("transfer-ok").disabled = true;
    dialog.showModal();
    send({ type: "transfer_targets" });
  };
  function chosen() { return targets.find((a) => String(a.agent_id) === $("transfer-to").value); }
  function explain() {
    const to = chosen();
    $("transfer-ok").disabled = !to;
    $("transfer-ok").textContent = to ? t("Transfer to {name}", { name: to.username }) : t("Transfer");
    $("transfer-text").textContent = to
      ? t("{name} gets the customer and this screen, and saves the outcome. You are free for the next call at once.", { name: to.username })
      : "";
  }
  function showTargets(agents) {
    if (!dialog.open) return;
    targets = agents;
    const select = $("transfer-to");
    select.replaceChildren();
    for (const a of agents) {
      const opt = document.createElement("option");
      opt.value = String(a.agent_id);
      opt.textContent = a.username;
      select.append(opt);
    }
    select.disabled = !agents.length;
    $("transfer-none").hidden = agents.length > 0;
    explain();
    if (agents.length) select.focus();
  }
  $("transfer-to").onchange = explain;
  $("transfer-cancel").onclick = () => dialog.close();
  $("transfer-form").onsubmit = (event) => {
    event.preventDefault();
    const to = chosen();
    dialog.close();
    if (to) control("transfer", { to: to.agent_id, name: to.username });
  };

  render();
})();
