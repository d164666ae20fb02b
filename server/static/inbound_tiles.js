// Wallboard tiles per inbound queue: calls waiting, longest wait, service level, ASA,
// queue abandons, callbacks pending (today; refreshed every 5 s).
"use strict";
(() => {
  const box = document.getElementById("inbound-tiles");
  if (!box) return;
  const pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%");
  async function draw() {
    const resp = await fetch("/api/v1/inbound/stats", { credentials: "same-origin" });
    if (!resp.ok) return;
    const { items } = await resp.json();
    box.replaceChildren(...items.map((q) => {
      const div = document.createElement("div");
      div.className = "tile";
      const title = document.createElement("b");
      title.textContent = label("inbound_queue", q.name);
      const kpi = document.createElement("div");
      kpi.className = "kpi" + (q.service_level !== null && q.service_level < 0.8 ? " over" : "");
      kpi.textContent = t("Answered in 20 s: {rate}", { rate: pct(q.service_level) });
      const rest = document.createElement("div");
      rest.className = "muted";
      const secs = (v) => (v === null ? "–" : t("{n} s", { n: v }));
      rest.textContent = t("waiting {waiting} · longest {longest} · average answer {asa} · abandoned {abandoned} · callbacks {callbacks}", {
        waiting: q.waiting, longest: secs(q.longest_wait_s), asa: secs(q.asa_s),
        abandoned: pct(q.abandon_rate), callbacks: q.callbacks_pending });
      div.append(title, kpi, rest);
      return div;
    }));
  }
  draw();
  setInterval(draw, 5000);
})();
