// Logistics board: open a shipment (a link), dispatch, open a return, move returns after a
// confirmation, record what was done about a shipment in trouble. Results stay on screen.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const NEXT = JSON.parse($("return-next").textContent);
  const FINAL = new Set(JSON.parse($("final-moves").textContent));

  async function api(method, url, body) {
    const resp = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw Object.assign(new Error(apiError(data, resp.status)), { data });
    return data;
  }
  function say(node, text, ok, detail) {
    node.className = "result " + (ok ? "ok" : "error");
    node.textContent = text;
    node.title = detail || "";
  }
  const fail = (node, err) => say(node, err.message, false, err.data && err.data.message);
  // A message that must survive the reload that shows the new state.
  function sayAfterReload(id, text) {
    sessionStorage.setItem("telemart-logistics-result", JSON.stringify({ id, text }));
    window.location.reload();
  }
  const kept = sessionStorage.getItem("telemart-logistics-result");
  if (kept) {
    sessionStorage.removeItem("telemart-logistics-result");
    const { id, text } = JSON.parse(kept);
    if ($(id)) say($(id), text, true);
  }

  // A row opens its shipment (the server renders the timeline and the forms).
  document.querySelectorAll("tr[data-shipment]").forEach((row) => {
    row.addEventListener("click", (event) => {
      if (event.target.closest("a, button")) return;
      row.querySelector("a").click();
    });
  });

  // --- the confirmation dialog --------------------------------------------------------------
  const dialog = $("confirm");
  const form = $("confirm-form");
  function ask({ title, text, pickup, date, okLabel, danger }) {
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text || "";
    $("confirm-pickup").hidden = !pickup;
    $("confirm-date").hidden = !date;
    form.elements.pickup_tracking_number.required = !!pickup;
    form.elements.redeliver_on.required = !!date;
    form.reset();
    $("confirm-ok").textContent = okLabel || t("Confirm");
    $("confirm-ok").className = danger ? "danger" : "";
    dialog.showModal();
    return new Promise((resolve) => {
      const done = (value) => { dialog.close(); resolve(value); };
      $("confirm-cancel").onclick = () => done(null);
      dialog.oncancel = () => resolve(null);
      form.onsubmit = (event) => {
        event.preventDefault();
        if (!form.reportValidity()) return;
        done(Object.fromEntries(new FormData(form).entries()));
      };
    });
  }

  // --- dispatch -----------------------------------------------------------------------------
  const dispatchForm = document.querySelector("form.dispatch");
  if (dispatchForm) {
    dispatchForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = dispatchForm.querySelector(".result");
      const data = new FormData(dispatchForm);
      try {
        await api("POST", `/api/v1/shipments/${dispatchForm.dataset.shipment}/dispatch`, {
          carrier: data.get("carrier"), tracking_number: data.get("tracking_number"),
        });
        sayAfterReload("return-result", t("Shipment {id} dispatched.", { id: dispatchForm.dataset.shipment }));
      } catch (err) {
        fail(out, err);
      }
    });
  }

  // --- open a return or exchange ------------------------------------------------------------
  const newReturn = $("new-return");
  if (newReturn) {
    const markDeadline = () => {
      const reason = newReturn.elements.reason.value;
      newReturn.querySelectorAll("#deadlines li").forEach((li) => {
        li.style.fontWeight = li.dataset.reason === reason ? "700" : "";
      });
    };
    newReturn.elements.reason.addEventListener("change", markDeadline);
    markDeadline();
    newReturn.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(newReturn);
      const kind = data.get("kind");
      const ok = await ask({
        title: kind === "exchange" ? t("Open an exchange?") : t("Open a return?"),
        text: t("Order {order}: {reason}.", { order: newReturn.dataset.order, reason: label("return_reason", data.get("reason")) }),
        okLabel: t("Open it"),
      });
      if (!ok) return;
      try {
        const made = await api("POST", "/api/v1/returns", {
          order_id: Number(newReturn.dataset.order), shipment_id: Number(newReturn.dataset.shipment),
          kind, reason: data.get("reason"), note: data.get("note") || ok.note || "",
        });
        sayAfterReload("return-result", t("{kind} {id} opened; deadline {deadline}.", {
          kind: label("return_kind", made.kind), id: made.id,
          deadline: made.deadline ? t("until {day}", { day: fmt.day(new Date(Date.parse(made.deadline) - 1)) }) : t("not started"),
        }));
      } catch (err) {
        fail($("new-return-result"), err);
      }
    });
  }

  // --- move a return ------------------------------------------------------------------------
  const returnOut = $("return-result");
  function renderMoves(row, status) {
    const cell = row.querySelector(".moves");
    cell.replaceChildren();
    for (const n of NEXT[status] || []) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "small " + (n === "rejected" || n === "cancelled" ? "danger" : "secondary");
      b.dataset.next = n;
      b.textContent = label("return_action", n);
      cell.append(b);
    }
  }
  document.querySelector("#returns tbody").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-next]");
    if (!button) return;
    const row = button.closest("tr");
    const next = button.dataset.next;
    const id = row.dataset.return;
    const final = FINAL.has(next);
    const answer = await ask({
      title: t("{action}: return {id}?", { action: label("return_action", next), id }),
      text: final ? t("This cannot be undone.") : t("The return moves to “{status}”.", { status: label("return_status", next) }),
      pickup: next === "pickup_scheduled", okLabel: label("return_action", next),
      danger: next === "rejected" || next === "cancelled",
    });
    if (!answer) return;
    const body = { status: next, note: answer.note || "" };
    if (next === "pickup_scheduled") {
      body.pickup_carrier = answer.pickup_carrier;
      body.pickup_tracking_number = answer.pickup_tracking_number;
    }
    try {
      const ret = await api("POST", `/api/v1/returns/${id}/status`, body);
      row.dataset.status = ret.status;
      row.querySelector(".rstatus").textContent = label("return_status", ret.status);
      row.querySelector(".rrefund").textContent = label("refund_status", ret.refund_status);
      renderMoves(row, ret.status);
      say(returnOut, t("Return {id}: {status}.", { id: ret.id, status: label("return_status", ret.status) }), true);
    } catch (err) {
      fail(returnOut, err);
    }
  });

  // --- what was done about a shipment in trouble --------------------------------------------
  const exceptionsBody = document.querySelector("#exceptions tbody");
  exceptionsBody.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const row = button.closest("tr");
    const action = button.dataset.act;
    const answer = await ask({
      title: t("{action}: shipment {id}", { action: label("shipment_action", action), id: row.dataset.exception }),
      text: t("It is recorded on the shipment's timeline."),
      date: action === "redelivery_date", okLabel: t("Record"),
    });
    if (!answer) return;
    try {
      const done = await api("POST", `/api/v1/shipments/${row.dataset.exception}/actions`, {
        action, note: answer.note || "", redeliver_on: answer.redeliver_on || null,
      });
      row.querySelector(".last-action").textContent =
        label("shipment_action", done.action) + (done.redeliver_on ? " " + done.redeliver_on : "") + " " + fmt.when(done.at);
      say($("exception-result"), t("Recorded for shipment {id}: {action}.", { id: done.shipment_id, action: label("shipment_action", done.action) }), true);
    } catch (err) {
      fail($("exception-result"), err);
    }
  });
})();
