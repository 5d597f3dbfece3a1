// The municipal coordinator's page: fetches /municipal-picture with the coordinator's token and fills tables.
// No library, no CDN; text only through textContent. The token comes from the URL fragment (#token=...).
"use strict";
(function () {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) { sessionStorage.setItem("token", fragment.get("token")); history.replaceState(null, "", location.pathname); }
  const token = sessionStorage.getItem("token");
  const $ = (id) => document.getElementById(id);
  // The words in the reader's language: the node prepends I18N (from Accept-Language) when it serves this file.
  const I18N = self.I18N || { lang: "en", messages: {} };
  const t = (text, values) => (I18N.messages[text] ?? text).replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? values[k] : m));
  const when = (iso) => new Date(iso).toLocaleString(I18N.lang === "da" ? "da-DK" : "en-GB", { timeZone: "Europe/Copenhagen", dateStyle: "long", timeStyle: "short" });
  document.documentElement.lang = I18N.lang;
  document.title = t(document.title);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.trim();
    if (text && I18N.messages[text]) node.nodeValue = node.nodeValue.replace(text, I18N.messages[text]);
  }
  const shown = (v) => (v === null || v === undefined ? "–" : String(v));

  function table(target, head, rows) {
    target.innerHTML = "";
    const tr = document.createElement("tr");
    for (const h of head) { const th = document.createElement("th"); th.textContent = h; tr.appendChild(th); }
    target.appendChild(tr);
    for (const row of rows) {
      const line = document.createElement("tr");
      for (const cell of row) {
        const td = document.createElement("td");
        td.textContent = shown(cell && cell.text !== undefined ? cell.text : cell);
        if (cell && cell.className) td.className = cell.className;
        line.appendChild(td);
      }
      target.appendChild(line);
    }
  }

  const pairs = (counts) => Object.entries(counts || {}).map(([k, v]) => `${k}: ${v}`).join(", ") || "–";

  function query(extra) {
    const params = new URLSearchParams({ municipality: $("municipality").value || "Odense", ...extra });
    if ($("from").value) params.set("from", $("from").value);
    if ($("to").value) params.set("to", $("to").value);
    return params;
  }

  async function download(part) {
    const response = await fetch(`municipal-picture.csv?${query({ part })}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (!response.ok) { $("error").textContent = `${response.status}`; return; }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `municipal-picture-${part}.csv`;
    link.click();
  }

  async function load() {
    $("status").textContent = t("loading…");
    $("error").textContent = "";
    const response = await fetch(`municipal-picture?${query({})}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      $("error").textContent = `${response.status} ${problem.title || ""}: ${problem.detail || ""}`;
      $("status").textContent = "";
      return;
    }
    const p = await response.json();
    $("status").textContent = t("{from} – {to}, as of {time}", { from: p.period_from, to: p.period_to, time: when(p.as_of) });
    table($("areas"), [t("Area"), t("Status"), t("Placements"), t("By organisation"), t("From"), t("Overridden"), t("Rent before"), t("Rent after"), t("Rent rises"), t("Outside work/education %"), t("Income ratio %")],
      p.areas.map((a) => [a.area, { text: a.status, className: a.status === "listed" || a.status === "transformation area" ? "listed" : "" },
        a.placements, pairs(a.by_organisation), pairs(a.from_transformation_areas), pairs(a.overrides),
        a.old_rent_mean, a.new_rent_mean, a.rent_rises,
        a.indicators ? a.indicators.share_outside_work_or_education : null, a.indicators ? a.indicators.income_ratio : null]));
    const months = p.areas.length ? p.areas[0].by_month.map((m) => m.month) : [];
    table($("months"), [t("Area"), ...months], p.areas.map((a) => [a.area, ...a.by_month.map((m) => m.placements)]));
    const o = p.offers;
    table($("offers"), [t("Measure"), t("Count")], [
      [t("Offers made"), o.made], [t("Accepted"), o.accepted], [t("Declined"), o.declined], [t("Expired"), o.expired],
      ...Object.entries(o.declined_by).map(([k, v]) => [t("Declined by {who}", { who: k }), v]),
      ...Object.entries(o.overrides).map(([k, v]) => [t("Overrode {rule}", { rule: k }), v]),
      ...Object.entries(o.warnings).map(([k, v]) => [t("Warned {rule}", { rule: k }), v]),
    ]);
    table($("latency"), [t("Department"), t("Kind"), t("Referrals"), t("p50 ack"), t("p90 ack"), t("p50 accept")],
      p.latency.map((x) => [x.to_org, x.kind, x.referrals, x.p50_hours_to_acknowledgement, x.p90_hours_to_acknowledgement, x.p50_hours_to_acceptance]));
  }

  for (const id of ["municipality", "from", "to"]) $(id).addEventListener("change", load);
  for (const part of ["placements", "offers", "latency"]) $(`csv-${part}`).addEventListener("click", (e) => { e.preventDefault(); download(part); });
  load();
})();
