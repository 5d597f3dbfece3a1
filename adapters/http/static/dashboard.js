// The operations dashboard: fetches /operations/dashboard with the operator's token and draws SVG charts.
// No library, no CDN. The token comes from the URL fragment (#token=...) and stays in this tab's storage.
"use strict";
(function () {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) { sessionStorage.setItem("token", fragment.get("token")); history.replaceState(null, "", location.pathname); }
  const token = sessionStorage.getItem("token");
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const COLOURS = { p50: "#2a9d8f", p90: "#e9c46a", p99: "#e76f51", value: "#457b9d" };
  let knownOrgs = new Set();
  // The words in the reader's language: the node prepends I18N (from Accept-Language) when it serves this file.
  const I18N = self.I18N || { lang: "en", messages: {} };
  const t = (text, values) => (I18N.messages[text] ?? text).replace(/\{(\w+)\}/g, (m, k) => (values && k in values ? values[k] : m));
  const when = (iso) => new Date(iso).toLocaleString(I18N.lang === "da" ? "da-DK" : "en-GB", { timeZone: "Europe/Copenhagen", dateStyle: "long", timeStyle: "short" });
  // The page's own words (headings, labels) are translated once, in place.
  document.documentElement.lang = I18N.lang;
  document.title = t(document.title);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.trim();
    if (text && I18N.messages[text]) node.nodeValue = node.nodeValue.replace(text, I18N.messages[text]);
  }

  function el(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function lineChart(title, months, lines) {
    // lines: {name: [value|null per month]}; y from 0 to the largest value.
    const w = 330, h = 150, left = 36, bottom = 20, top = 8;
    const values = Object.values(lines).flat().filter((v) => v !== null);
    const max = Math.max(1, ...values);
    const x = (i) => left + (months.length < 2 ? 0 : (i * (w - left - 6)) / (months.length - 1));
    const y = (v) => top + (h - top - bottom) * (1 - v / max);
    const box = document.createElement("div");
    box.className = "chart";
    box.innerHTML = `<h3></h3>`;
    box.querySelector("h3").textContent = title;
    const svg = el("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": title });
    for (const frac of [0, 0.5, 1]) {
      svg.appendChild(el("line", { x1: left, x2: w - 4, y1: y(max * frac), y2: y(max * frac), stroke: "#e4e7eb" }));
      svg.appendChild(el("text", { x: left - 4, y: y(max * frac) + 4, "font-size": 10, "text-anchor": "end" }, (max * frac).toFixed(max * frac < 10 ? 1 : 0)));
    }
    months.forEach((m, i) => {
      if (i % Math.max(1, Math.ceil(months.length / 6)) === 0)
        svg.appendChild(el("text", { x: x(i), y: h - 5, "font-size": 9, "text-anchor": "middle" }, m));
    });
    for (const [name, series] of Object.entries(lines)) {
      let d = "";
      series.forEach((v, i) => { if (v !== null) d += `${d === "" ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)} `; });
      if (d) svg.appendChild(el("path", { d, fill: "none", stroke: COLOURS[name] || COLOURS.value, "stroke-width": 1.8, class: "series", "data-series": name }));
      series.forEach((v, i) => { if (v !== null) svg.appendChild(el("circle", { cx: x(i), cy: y(v), r: 1.8, fill: COLOURS[name] || COLOURS.value })); });
    }
    box.appendChild(svg);
    return box;
  }

  function tiles(target, items) {
    target.innerHTML = "";
    for (const [label, figure, value, bad] of items) {
      const tile = document.createElement("div");
      tile.className = "tile" + (bad && value > 0 ? " bad" : "");
      const b = document.createElement("b");
      b.dataset.figure = figure;
      b.textContent = value === null || value === undefined ? "–" : String(value);
      const span = document.createElement("span");
      span.textContent = label;
      tile.append(b, span);
      target.appendChild(tile);
    }
  }

  function table(target, head, rows) {
    target.innerHTML = "";
    const tr = document.createElement("tr");
    head.forEach((h) => { const th = document.createElement("th"); th.textContent = h; tr.appendChild(th); });
    target.appendChild(tr);
    for (const row of rows) {
      const r = document.createElement("tr");
      row.forEach(([text, figure]) => {
        const td = document.createElement("td");
        td.textContent = text === null || text === undefined ? "–" : String(text);
        if (figure) td.dataset.figure = figure;
        r.appendChild(td);
      });
      target.appendChild(r);
    }
  }

  function latencyCharts(target, series, name) {
    target.innerHTML = "";
    for (const s of series) {
      const months = s.months.map((p) => p.month);
      const lines = { p50: s.months.map((p) => p.p50), p90: s.months.map((p) => p.p90), p99: s.months.map((p) => p.p99) };
      target.appendChild(lineChart(`${name(s)} (n=${s.total.count}, p90 ${s.total.p90 ?? "–"} h)`, months, lines));
    }
  }

  function render(d) {
    const pair = (s) => `${s.from_org} → ${s.to_org}`;
    latencyCharts($("by-pair"), d.latency_by_pair, pair);
    latencyCharts($("by-kind"), d.latency_by_kind, (s) => s.kind);
    const o = d.overdue;
    tiles($("overdue"), [
      [t("acknowledgements overdue"), "overdue.acknowledgements_overdue", o.acknowledgements_overdue, true],
      [t("acknowledged late"), "overdue.acknowledged_late", o.acknowledged_late, true],
      [t("completions overdue"), "overdue.completions_overdue", o.completions_overdue, true],
      [t("follow-up visits due"), "overdue.follow_ups_due", o.follow_ups_due, false],
      [t("follow-ups overdue"), "overdue.follow_ups_overdue", o.follow_ups_overdue, true],
      [t("follow-ups done late"), "overdue.follow_ups_done_late", o.follow_ups_done_late, true],
    ]);
    table($("overdue-by-receiver"), [t("receiver owing an acknowledgement"), t("overdue")],
      Object.entries(o.by_receiver).map(([k, v]) => [[k], [v, `overdue.by_receiver.${k}`]]));
    const c = d.daycare;
    tiles($("daycare"), [
      [t("waiting"), "daycare.waiting", c.waiting, false], [t("place offered"), "daycare.place_offered", c.place_offered, false],
      [t("started"), "daycare.started", c.started, false], [t("past guarantee date"), "daycare.past_guarantee", c.past_guarantee, true],
      [t("median days waiting"), "daycare.median_days_waiting", c.median_days_waiting, false],
      [t("max days waiting"), "daycare.max_days_waiting", c.max_days_waiting, false],
    ]);
    $("daycare-chart").replaceWith(Object.assign(lineChart(t("queue length at each month's end"), c.queue_by_month.map((m) => m.month),
      { value: c.queue_by_month.map((m) => m.queue_length) }), { id: "daycare-chart" }));
    const p = d.pool;
    tiles($("pool"), [
      [t("open now"), "pool.open_now", p.open_now, false], [t("published"), "pool.published", p.published, false],
      [t("let"), "pool.let", p.let, false], [t("median days to let"), "pool.median_days_to_let", p.median_days_to_let, false],
      [t("p90 days to let"), "pool.p90_days_to_let", p.p90_days_to_let, false],
    ]);
    $("pool-chart").replaceWith(Object.assign(lineChart(t("open vacancies at each month's end"), p.by_month.map((m) => m.month),
      { value: p.by_month.map((m) => m.pool_size) }), { id: "pool-chart" }));
    tiles($("area-tiles"), [[t("warnings"), "warnings", d.warnings, true], [t("overrides"), "overrides", d.overrides, true]]);
    table($("areas"), [t("receiving area"), t("moved in"), t("vulnerable share"), t("warnings"), t("overrides")],
      d.areas.map((a) => [[a.area], [a.moved_in], [(a.vulnerable_share * 100).toFixed(0) + " %"], [a.warnings], [a.overrides]]));
    table($("lag"), [t("what"), t("lag"), t("parked")], Object.keys(d.lag).map((k) => [[k], [d.lag[k], `lag.${k}`], [d.parked[k] ?? "", d.parked[k] === undefined ? "" : `parked.${k}`]])
      .concat([[[t("exchange (parked messages)")], [""], [d.parked.exchange, "parked.exchange"]]]));
    table($("latency-table"), [t("pair / kind"), t("referrals acknowledged"), "p50", "p90", "p99"],
      d.latency_by_pair.map((s) => [[pair(s)], [s.total.count], [s.total.p50], [s.total.p90, `latency.${s.from_org}.${s.to_org}.p90`], [s.total.p99]])
        .concat(d.latency_by_kind.map((s) => [[s.kind], [s.total.count], [s.total.p50], [s.total.p90, `latency.${s.kind}.p90`], [s.total.p99]])));
    for (const s of d.latency_by_pair) { knownOrgs.add(s.from_org); knownOrgs.add(s.to_org); }
    const select = $("org");
    for (const org of [...knownOrgs].sort()) {
      if (![...select.options].some((o) => o.value === org)) select.add(new Option(org, org));
    }
    if (!$("from").value) $("from").value = d.period_from;
    if (!$("to").value) $("to").value = d.period_to;
    $("status").textContent = t("as of {time} (node {node}); updates every 10 s", { time: when(d.as_of), node: d.node });
    document.body.dataset.loaded = "true";
  }

  async function refresh() {
    const params = new URLSearchParams();
    if ($("org").value) params.set("org", $("org").value);
    if ($("from").value) params.set("from", $("from").value);
    if ($("to").value) params.set("to", $("to").value);
    try {
      const response = await fetch(`operations/dashboard?${params}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      if (!response.ok) throw new Error(`${response.status} ${(await response.json()).title || ""}`);
      $("error").textContent = "";
      render(await response.json());
    } catch (error) {
      $("error").textContent = t("could not load the figures: {error}", { error: error.message })
        + (token ? "" : t(" (open the link with #token=… printed by the demo)"));
    }
  }

  for (const id of ["org", "from", "to"]) $(id).addEventListener("change", refresh);
  refresh();
  setInterval(refresh, 10000);
})();
