// Campaign settings forms (new campaign, edit settings): read the form into the API's
// settings document, send it, and put the API's errors next to the inputs they concern.
//
// An input joins the document through data-field="a.b.c" (the API path). data-kind="number"
// reads a number; data-unit="percent" or "hours" converts to the API's fraction or seconds;
// data-empty="omit" | "null" says what an empty number means (default: null, which the API
// refuses for a required field, so the user sees why). Lists: a container with
// data-list="path" holds rows [data-row] of inputs with data-key. data-object="path" makes an
// object exist even when all its inputs are empty. A 422 answer's `field` path is shown at
// the input (or [data-error-for] block) whose path is its longest prefix.
window.CampaignForm = (function () {
  "use strict";

  const UNITS = {
    percent: { toApi: (v) => v / 100, fromApi: (v) => v * 100, label: "%" },
    hours: { toApi: (v) => v * 3600, fromApi: (v) => v / 3600, label: t("h") },
  };

  function tidy(n) { return String(Number(n.toFixed(6))); }

  function customInput(select) {
    return select.dataset.custom ? document.getElementById(select.dataset.custom) : null;
  }

  function readInput(input) {
    if (input.type === "checkbox") return input.checked;
    if (input.tagName === "SELECT" && input.value === "__custom__") {
      const custom = customInput(input);
      return custom ? custom.value.trim() : "";
    }
    if (input.dataset.kind !== "number") return input.value;
    const raw = input.value.trim();
    if (raw === "") {
      if (input.dataset.empty === "omit") return undefined;
      // type=number hides what the user typed when it is not a number: say so.
      return input.validity && input.validity.badInput ? "not a number" : null;
    }
    const unit = UNITS[input.dataset.unit];
    return unit ? unit.toApi(Number(raw)) : Number(raw);
  }

  function setPath(doc, parts, value) {
    let node = doc;
    for (let i = 0; i < parts.length - 1; i++) {
      if (node[parts[i]] === undefined) node[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      node = node[parts[i]];
    }
    if (value !== undefined) node[parts[parts.length - 1]] = value;
  }

  // Give list rows their index paths (rows come and go), then read every [data-field].
  function collect(form) {
    const doc = {};
    for (const box of form.querySelectorAll("[data-object]")) setPath(doc, box.dataset.object.split("."), {});
    for (const list of form.querySelectorAll("[data-list]")) {
      setPath(doc, list.dataset.list.split("."), []);
      list.querySelectorAll("[data-row]").forEach((row, i) => {
        for (const input of row.querySelectorAll("[data-key]")) {
          input.dataset.field = `${list.dataset.list}.${i}.${input.dataset.key}`;
        }
      });
    }
    for (const input of form.querySelectorAll("[data-field]")) {
      setPath(doc, input.dataset.field.split("."), readInput(input));
    }
    return doc;
  }

  function target(form, path) {
    const parts = path.split(".");
    for (let n = parts.length; n > 0; n--) {
      const p = CSS.escape(parts.slice(0, n).join("."));
      const found = form.querySelector(`[data-field="${p}"], [data-error-for="${p}"]`);
      if (!found) continue;
      const custom = found.tagName === "SELECT" && found.value === "__custom__" && customInput(found);
      return custom || found;
    }
    return null;
  }

  // "compliance.abandon_cap: Input should be less than or equal to 0.03" → "3% 이하로" in the
  // page's language and the input's unit. The API's own words stay in the tooltip.
  const BOUNDS = [
    [/less than or equal to (\S+)$/, (n) => t("At most {n}", { n })],
    [/greater than or equal to (\S+)$/, (n) => t("At least {n}", { n })],
    [/less than (\S+)$/, (n) => t("Less than {n}", { n })],
    [/greater than (\S+)$/, (n) => t("More than {n}", { n })],
  ];
  function message(err, input) {
    let text = err.message || "invalid";
    if (err.field && text.startsWith(err.field + ": ")) text = text.slice(err.field.length + 2);
    text = text.replace(/^Value error, /, "");
    const unit = input && UNITS[input.dataset.unit];
    for (const [pattern, say] of BOUNDS) {
      const m = pattern.exec(text);
      if (m) {
        const n = Number(m[1]);
        return say(unit ? `${tidy(unit.fromApi(n))}${unit.label === "%" ? "%" : " " + unit.label}` : fmt.num(n));
      }
    }
    let m = /^unknown time zone '(.*)'$/.exec(text);
    if (m) return t("Unknown time zone: {zone}", { zone: m[1] });
    m = /^unknown placeholders \[(.*)\]/.exec(text);
    if (m) return t("Unknown placeholders: {names}", { names: m[1].replace(/'/g, "") });
    if (/^Field required/.test(text) || /at least 1 character/.test(text)) return t("Required");
    if (/valid number|valid integer/.test(text)) return t("Enter a number");
    if (/should match pattern/.test(text)) return t("Lowercase letters, digits and _ only");
    if (/duplicate|unique|twice/i.test(text)) return t("Used twice");
    return t("Not accepted: check this value");
  }

  function clearErrors(form) {
    for (const node of form.querySelectorAll(".field-error")) node.remove();
    for (const node of form.querySelectorAll(".invalid")) {
      node.classList.remove("invalid");
      node.removeAttribute("aria-invalid");
    }
  }

  function clearError(input) {
    if (!input.classList.contains("invalid")) return;
    input.classList.remove("invalid");
    input.removeAttribute("aria-invalid");
    const next = input.nextElementSibling;
    if (next && next.classList.contains("field-error")) next.remove();
  }

  // Show an API error at its field; false when no input matches (the caller shows it).
  function showError(form, err) {
    const input = err.field ? target(form, err.field) : null;
    if (!input) return false;
    input.classList.add("invalid");
    input.setAttribute("aria-invalid", "true");
    const note = document.createElement("span");
    note.className = "field-error error";
    note.setAttribute("role", "alert");
    note.dataset.errorField = err.field;
    note.textContent = message(err, input);
    note.title = err.message || "";
    if (input.hasAttribute("data-error-for")) input.appendChild(note);
    else input.insertAdjacentElement("afterend", note);
    input.scrollIntoView({ block: "center" });
    if (typeof input.focus === "function") input.focus({ preventScroll: true });
    return true;
  }

  async function send(method, url, body) {
    const resp = await fetch(url, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({ message: resp.statusText }));
    return { ok: resp.ok, status: resp.status, data: data };
  }

  // The strategy select's "module:Class…" choice shows the import-path input.
  function wireCustom(select) {
    const custom = customInput(select);
    if (!custom) return;
    const box = custom.closest("label") || custom;
    const sync = () => { box.hidden = select.value !== "__custom__"; };
    select.addEventListener("change", () => { sync(); if (!box.hidden) custom.focus(); });
    sync();
  }

  return { collect, clearErrors, clearError, showError, send, wireCustom };
})();
