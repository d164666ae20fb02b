// The session's CSRF token (server/csrf.py) on every same-origin write this page makes:
// fetch and XMLHttpRequest get the X-CSRF-Token header, post forms a csrf_token field.
// Load it before the page's own scripts: <script src="/static/csrf.js"></script>.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";
  if (!token) return;
  const SAFE = ["GET", "HEAD", "OPTIONS"];
  const sameOrigin = (url) => new URL(url, location.href).origin === location.origin;
  window.telemartCsrfToken = token;

  const originalFetch = window.fetch;
  window.fetch = function (input, init) {
    const request = new Request(input, init);
    if (!SAFE.includes(request.method) && sameOrigin(request.url)) {
      const headers = new Headers((init && init.headers) || (input instanceof Request ? input.headers : {}));
      headers.set("X-CSRF-Token", token);
      return originalFetch(input, Object.assign({}, init, { headers: headers }));
    }
    return originalFetch(input, init);
  };

  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this._telemartWrite = !SAFE.includes(String(method).toUpperCase()) && sameOrigin(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this._telemartWrite) this.setRequestHeader("X-CSRF-Token", token);
    return send.apply(this, arguments);
  };

  function addFields() {
    for (const form of document.querySelectorAll('form[method="post"], form[method="POST"]')) {
      if (!sameOrigin(form.action) || form.querySelector('input[name="csrf_token"]')) continue;
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrf_token";
      input.value = token;
      form.appendChild(input);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", addFields);
  else addFields();
})();
