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
      title.textContent = q.name;
      const kpi = document.createElement("div");
      kpi.className = "kpi" + (q.service_level !== null && q.service_level < 0.8 ? " over" : "");
      kpi.textContent = "20초 응답 " + pct(q.service_level);
      const rest = document.createElement("div");
      rest.className = "muted";
      rest.textContent = `대기 ${q.waiting} · 최장 대기 ${q.longest_wait_s === null ? "–" : q.longest_wait_s + "초"} · ` +
        `평균 응답 ${q.asa_s === null ? "–" : q.asa_s + "초"} · 포기 ${pct(q.abandon_rate)} · 콜백 ${q.callbacks_pending}`;
      div.append(title, kpi, rest);
      return div;
    }));
  }
  draw();
  setInterval(draw, 5000);
})();
