// The page scripts' words and formats. Loaded after /i18n/<lang>.js (the catalog, from
// server/locale/<lang>/LC_MESSAGES/js.po) and before every page script.
//
//   t("Order #{id} placed", { id: 5 })          a string in the page's language
//   tn("{n} line", "{n} lines", n, { ... })     with a plural (n is also {n})
//   fmt.when(iso)   "2026-11-23 14:05 KST"      the site's time zone, labelled
//   fmt.phone(e164) "010-3926-0306"             national format (same rules as phonenumbers)
//   fmt.won(n)      "12,900원"                   grouped, in won
//
// Every visible string goes through t()/tn(): `telemart i18n update` extracts them and a
// test fails while one has no Korean (docs/i18n.md).
"use strict";
(function () {
  const cat = window.TELEMART_I18N || { lang: "en", plural: "one", messages: {} };
  const root = document.documentElement;
  const SITE_TZ = root.dataset.tz || "Asia/Seoul";
  const TZ_LABEL = root.dataset.tzLabel || "KST";
  const LOCALE = cat.lang === "ko" ? "ko-KR" : "en-US";

  function fill(text, params) {
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
  }
  function t(message, params) {
    const found = cat.messages[message];
    return fill(typeof found === "string" && found ? found : message, params);
  }
  function tn(singular, plural, n, params) {
    const forms = cat.messages[singular];
    let text;
    if (Array.isArray(forms) && forms.length) {
      text = cat.plural === "none" ? forms[0] : forms[n === 1 ? 0 : Math.min(1, forms.length - 1)];
    } else {
      text = n === 1 ? singular : plural;
    }
    return fill(text, Object.assign({ n: num(n) }, params || {}));
  }

  // --- formats ---------------------------------------------------------------------------
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: SITE_TZ, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  function wall(value) {
    const d = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(d.getTime())) return null;
    const p = Object.fromEntries(parts.formatToParts(d).map((x) => [x.type, x.value]));
    return p;
  }
  function when(value, opts) {
    if (value === null || value === undefined || value === "") return "";
    const p = wall(value);
    if (!p) return String(value);
    const o = opts || {};
    let text = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
    if (o.seconds) text += `:${p.second}`;
    if (o.timeOnly) text = text.slice(11);
    return o.label === false ? text : `${text} ${TZ_LABEL}`;
  }
  function day(value) {
    if (!value) return "";
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
    const p = wall(value);
    return p ? `${p.year}-${p.month}-${p.day}` : String(value);
  }
  function num(n) {
    if (n === null || n === undefined || n === "") return "";
    return Number(n).toLocaleString(LOCALE);
  }
  function won(n) { return t("₩{amount}", { amount: num(Math.round(Number(n || 0))) }); }
  function pct(x, digits) {
    if (x === null || x === undefined) return "—";
    return (100 * x).toFixed(digits === undefined ? 1 : digits) + "%";
  }
  function seconds(s) {  // a duration: "1:05", "1:02:03"
    s = Math.max(0, Math.floor(Number(s) || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }

  // Korean numbers in national format, grouped as libphonenumber groups them.
  function groups(d, lens) {
    const out = []; let i = 0;
    for (const n of lens) { out.push(d.slice(i, i + n)); i += n; }
    return out.join("-");
  }
  function krNational(d) {  // d: national significant number, without the leading 0
    if (/^1[5-9]\d{6}$/.test(d)) return groups(d, [4, 4]);  // 1588-1234
    if (d[0] === "2") {  // Seoul
      if (d.length === 9) return "0" + groups(d, [1, 4, 4]);
      if (d.length === 8) return "0" + groups(d, [1, 3, 4]);
      return "0" + d;
    }
    if (/^(1[0-9]|[3-6][1-5]|70|50)/.test(d)) {
      if (d.length === 10) return "0" + groups(d, [2, 4, 4]);
      if (d.length === 9) return "0" + groups(d, [2, 3, 4]);
    }
    return "0" + d;
  }
  function phone(value) {
    if (!value) return "";
    const v = String(value);
    const masked = /^\+82 (\d+)-(.*)$/.exec(v);  // "+82 10-****-1234" (a masked sample)
    if (masked) return "0" + masked[1] + "-" + masked[2];
    const m = /^\+82(\d{7,10})$/.exec(v.replace(/[\s-]/g, ""));
    if (m) return krNational(m[1]);
    return v;
  }

  // Words for codes (agent states, outcomes, statuses …): server/labels.py, rendered into
  // the page in its language. An unknown code shows as itself.
  const labelsNode = document.getElementById("telemart-labels");
  const LABELS = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  function label(kind, code) {
    if (code === null || code === undefined) return "";
    const table = LABELS[kind] || {};
    return table[code] !== undefined ? table[code] : String(code);
  }

  // An API error ({error, message, field}) in the page's language. The API speaks English
  // (for integrators); the page says what happened from the code and keeps the server's
  // detail for the tooltip (apiError.detail).
  const FIELDS = {
    name: t("name"), phone: t("phone"), address: t("address"), postal_code: t("postal code"),
    tracking_number: t("tracking number"), carrier: t("carrier"), redeliver_on: t("new delivery date"),
    qty: t("quantity"), lines: t("order lines"), order_id: t("order"), filter: t("conditions"),
    reason: t("reason"), status: t("status"), callback_at: t("callback time"),
  };
  function lastPart(path) {
    const parts = String(path || "").split(".").filter((p) => !/^\d+$/.test(p));
    return parts[parts.length - 1] || "";
  }
  function fieldWord(path) {
    const last = lastPart(path);
    return FIELDS[last] || last;
  }
  function apiError(data, status) {
    const d = data || {};
    const extra = { field: fieldWord(d.field), status: status || "", limit: d.limit ?? "",
      deadline: d.deadline ? when(d.deadline) : "" };
    switch (d.error) {
      case "limit_exceeded": return d.limit !== undefined
        ? t("Over the per-customer limit: at most {limit} per customer.", extra)
        : t("Over the per-customer limit.");
      case "out_of_stock": return t("Not enough stock for this order.");
      case "not_found": return t("Not found: it may have been removed.");
      case "invalid_transition": case "illegal_transition":
        return t("Not possible in the current state: reload the page.");
      case "conflict": return t("Someone changed this meanwhile: reload and try again.");
      case "request_in_progress": return t("The same request is still being processed.");
      case "idempotency_key_reused": return t("This order was already sent with other contents.");
      case "cancellation_window_closed": return t("The deadline to ask passed ({deadline}).", extra);
      case "unknown_carrier": return t("Unknown carrier.");
      case "bad_tracking_number": return t("That is not a tracking number of this carrier.");
      case "invalid_phone": return t("The phone number is not valid.");
      case "unauthenticated": return t("Your session ended: log in again.");
      case "csrf": return t("This page has expired (the session changed): reload the page and try again.");
      case "body_too_large": return t("Too much to send at once: at most {size} KB.",
        { size: num(Math.ceil(Number(d.max_bytes || 0) / 1024)) });
      case "unavailable": return t("Telemart cannot reach its database right now: nothing is lost, try again in a moment.");
      case "too_many_attempts": return tn("Too many failed logins: try again in {n} second.",
        "Too many failed logins: try again in {n} seconds.", Number(d.retry_after || 1));
      case "busy": return t("Many people are logging in at once: try again in a moment.");
      case "too_large": return t("The file is too large.");
      case "invalid_menu": return t("The menu is not valid: check its steps.");
      case "agent_not_on_campaign": return t("That agent is not on a campaign now.");
      case "supervisor_phone_down": return t("Your phone is not connected yet: answer it when it rings, then try again.");
      case "reconnecting": return t("Lost the dialer: reconnecting…");
      case "no_dialer": return t("No dialer runs on this server right now: try again in a moment.");
      case "telephony": return t("The phone system refused: try again, or check the phone line.");
      case "insufficient_stock": return t("Not enough stock in that warehouse.");
      case "forbidden": return t("Your role may not do this.");
      case "invalid": {
        const m = /must be at (most|least) (-?[\d.]+)/.exec(d.message || "");
        if (m) {
          return m[1] === "most" ? t("A value is too large: at most {n}.", { n: num(m[2]) })
            : t("A value is too small: at least {n}.", { n: num(m[2]) });
        }
        return FIELDS[lastPart(d.field)] ? t("Check the {field}.", extra) : t("Check what you entered.");
      }
      case "bad_lines": return t("Those lines are not on this shipment.");
      case "unreadable_file": return t("The file could not be read.");
      case "no_file": case "not_multipart": return t("Choose a file first.");
      case "closed": return t("This campaign is stopped: it cannot change any more.");
      case "not_ready": return /no leads/.test(d.message || "") ? t("The campaign has no leads yet: make a list first.")
        : /data source/.test(d.message || "") ? t("Set the data source line before starting.")
        : t("The campaign is not ready to start.");
      case "refused": return t("Refused: see the details (hover).");
      default: return status ? t("The request failed (HTTP {status}).", extra) : t("The request failed.");
    }
  }

  window.apiError = apiError;
  window.t = t;
  window.tn = tn;
  window.label = label;
  window.fmt = { when, day, num, won, pct, seconds, phone, SITE_TZ, TZ_LABEL, LOCALE };
})();
