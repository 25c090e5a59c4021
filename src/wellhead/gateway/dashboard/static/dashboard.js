// The Wellhead dashboard: reads the public API (/api/v1) and charts it with plotly.js.
"use strict";

const API = "/api/v1";

async function getJson(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

// Follows next_cursor until the list ends (or `max` items).
async function getAll(path, max = 5000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await getJson(path + sep + "limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

function fill(tableId, rows, columns) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    for (const c of columns) cell(tr, c(r));
    body.appendChild(tr);
  }
}

const money = (a) => (a ? Number(a.decimal).toLocaleString(undefined, { maximumFractionDigits: 2 }) : "—");
// a price as the API gives it, every digit kept (a NAV of 0.996026 is not "1"), with thousands separators
const price = (a) => {
  if (!a) return "—";
  const [whole, frac] = a.decimal.split(".");
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (frac ? "." + frac : "");
};
const pct = (bps) => (bps === null || bps === undefined ? "—" : (bps / 100).toFixed(2) + " %");
const when = (ts) => new Date(ts * 1000);

function chart(id, title, traces, yTitle, layout = {}) {
  const el = document.getElementById(id);
  const points = traces.reduce((n, t) => n + t.x.length, 0);
  // the title on the left, the controls on the right above the plot, shown on hover only: never over the title
  Plotly.newPlot(el, traces, {
    title: { text: title, x: 0, xanchor: "left", font: { size: 15 } },
    margin: { t: 56, r: 48, b: 40, l: 56 },
    yaxis: { title: { text: yTitle } },
    legend: { orientation: "h", y: -0.2 },
    ...layout,
  }, { responsive: true, displaylogo: false, displayModeBar: "hover" });
  el.dataset.points = String(points);
}

async function showAsset(assetId) {
  const [epochs, nav, leases, gridEvents, energy] = await Promise.all([
    getAll(`/assets/${assetId}/epochs`),
    getAll(`/assets/${assetId}/nav`),
    getAll(`/leases?asset_id=${assetId}`),
    getAll(`/assets/${assetId}/grid-events`),
    getJson(`/assets/${assetId}/energy`),
  ]);
  // an epoch without a proven report is a gap in the line, marked with the reason: never a 0 % point
  const proven = (e) => e.uptime_bps !== null && e.proven !== false;
  const why = (e) => (e.settled ? "settled without proof: its hours refunded" : "no report yet");
  const gaps = epochs.filter((e) => !proven(e));
  chart("chart-uptime", "Uptime per epoch", [
    { x: epochs.map((e) => when(e.ends_at)), y: epochs.map((e) => (proven(e) ? e.uptime_bps / 100 : null)),
      name: "uptime %", type: "scatter", mode: "lines+markers", connectgaps: false },
    { x: gaps.map((e) => when(e.ends_at)), y: gaps.map(() => 100), name: "unreported", type: "scatter", mode: "markers",
      marker: { symbol: "x-open", size: 9, color: "#b00020" }, text: gaps.map(why), hovertemplate: "%{text}<extra></extra>" },
  ], "%", { yaxis: { title: { text: "%" }, range: [0, 105] } });
  const metered = epochs.filter((e) => e.gpu_energy_wh !== null);
  chart("chart-energy", "Energy per epoch", [
    { x: metered.map((e) => when(e.ends_at)), y: metered.map((e) => Number(e.gpu_energy_wh) / 1000), name: "GPUs (kWh)", type: "bar" },
    { x: metered.map((e) => when(e.ends_at)), y: metered.map((e) => Number(e.mining_energy_wh) / 1000), name: "Bitcoin miners (kWh)", type: "bar" },
    { x: metered.map((e) => when(e.ends_at)), y: metered.map((e) => Number(e.facility_energy_wh) / 1000), name: "facility (kWh)", type: "bar" },
  ], "kWh");
  const perUse = epochs.filter((e) => e.ai_revenue_per_kwh !== null && e.ai_revenue_per_kwh !== undefined);
  const perKwh = (a) => (a && Number(a.decimal) > 0 ? Number(a.decimal) : null); // a log axis has no zero
  chart("chart-use-kwh", "Revenue per kWh: AI leases vs Bitcoin mining", [
    { x: perUse.map((e) => when(e.ends_at)), y: perUse.map((e) => perKwh(e.ai_revenue_per_kwh)), name: "AI", type: "scatter", mode: "lines+markers" },
    { x: perUse.map((e) => when(e.ends_at)), y: perUse.map((e) => perKwh(e.mining_revenue_per_kwh)), name: "mining", type: "scatter", mode: "lines+markers" },
  ], "stablecoin / kWh (log)", { yaxis: { type: "log", dtick: 1, tickformat: "~g", title: { text: "stablecoin / kWh (log)" } } });
  chart("chart-green", "Renewable share and carbon intensity", [
    { x: metered.map((e) => when(e.ends_at)), y: metered.map((e) => e.renewable_bps / 100), name: "renewable %", type: "scatter", mode: "lines+markers" },
    { x: metered.map((e) => when(e.ends_at)), y: metered.map((e) => e.carbon_grams_per_kwh), name: "gCO2/kWh", type: "scatter", mode: "lines+markers", yaxis: "y2" },
  ], "%", { yaxis2: { title: { text: "gCO2 / kWh" }, overlaying: "y", side: "right" } });
  document.getElementById("energy-summary").textContent =
    `Over ${energy.epochs} reported epochs: AI ${money(energy.ai_revenue_per_kwh)} / kWh, ` +
    `mining ${money(energy.mining_revenue_per_kwh)} / kWh; ${energy.certificates_retired} certificates retired; ` +
    `energy income ${money(energy.energy_income)} (${money(energy.energy_income_to_holders)} to holders).`;
  fill("grid-events", gridEvents, [
    (g) => g.event_id.slice(0, 10) + "…", (g) => g.source, (g) => when(g.starts_at).toISOString().slice(0, 16).replace("T", " "),
    (g) => (g.ends_at - g.starts_at) / 60, (g) => money(g.energy_income), (g) => money(g.holders_income),
  ]);
  const earning = epochs.filter((e) => e.revenue_per_kwh !== null);
  chart("chart-revenue-kwh", "Holders' revenue per facility kWh", [
    { x: earning.map((e) => when(e.ends_at)), y: earning.map((e) => Number(e.revenue_per_kwh.decimal)), name: "per kWh", type: "scatter", mode: "lines+markers" },
  ], "stablecoin / kWh");
  chart("chart-nav", "NAV and lending price per share", [
    { x: nav.map((r) => when(r.recorded_at)), y: nav.map((r) => Number(r.price_per_share.decimal)), name: "NAV", type: "scatter", mode: "lines+markers" },
    { x: nav.map((r) => when(r.recorded_at)), y: nav.map((r) => (r.lending_price ? Number(r.lending_price.decimal) : null)), name: "lending price", type: "scatter", mode: "lines+markers" },
  ], "stablecoin");
  fill("leases", leases, [
    (l) => l.id, (l) => l.lessee, (l) => l.lease_class, (l) => l.gpus,
    (l) => `${l.start_epoch}–${l.end_epoch - 1}`, (l) => money(l.prepaid), (l) => money(l.refunded), (l) => money(l.service_credit),
    (l) => (Number(l.energy_wh) / 1000).toFixed(1), (l) => (Number(l.carbon_free_energy_wh) / 1000).toFixed(1),
  ]);
}

const health = (wad) => (wad ? (Number(BigInt(wad) / 10n ** 15n) / 1000).toFixed(3) : "—");

async function showCredit() {
  const [markets, liquidations] = await Promise.all([getJson("/credit/markets"), getAll("/credit/liquidations")]);
  const rows = markets.capacity.map((m) => ({ ...m, name: `asset #${m.asset_id} shares` }));
  fill("credit-markets", rows, [
    (m) => m.name, (m) => `${pct(m.ltv_bps)} / ${pct(m.liquidation_threshold_bps)}`,
    (m) => `${money(m.caps.borrow_used)} / ${money(m.caps.borrow_cap)}`,
    (m) => `${money(m.caps.supply_used)} / ${money(m.caps.supply_cap)}`,
    (m) => price(m.feed.lending_price), (m) => price(m.feed.nav),
    (m) => `${m.feed.full_windows} of ${m.feed.track_record_windows} windows of ${m.feed.window_epochs} epochs` +
      (m.feed.seasoned ? "" : " (young: lends nothing)") + `; life capped at ${m.feed.lending_life_windows} windows`,
  ]);
  const b = markets.btc;
  document.getElementById("btc-market").textContent = b
    ? `BTC market: ${money(b.price_per_btc)} per BTC (${b.price_usable ? "fresh" : "stale: no borrowing"}, ` +
      `heartbeat ${b.heartbeat_seconds / 60} min); LTV ${pct(b.ltv_bps)}, liquidation at ${pct(b.liquidation_threshold_bps)}; ` +
      `borrowed ${money(b.caps.borrow_used)} of ${money(b.caps.borrow_cap)}; pledged ${money(b.caps.supply_used)} of ` +
      `${money(b.caps.supply_cap)} BTC; liquidity ${money(b.liquidity)}; bad debt ${money(b.bad_debt)}`
    : "No BTC market on this deployment.";
  fill("liquidations", liquidations, [
    (l) => (l.market === "btc" ? "BTC" : `asset #${l.asset_id}`), (l) => l.borrower, (l) => money(l.repaid),
    (l) => money(l.seized), (l) => price(l.price_per_share), (l) => money(l.bad_debt),
  ]);
}

async function showPositions(event) {
  event.preventDefault();
  const who = document.getElementById("investor").value.trim();
  const error = document.getElementById("positions-error");
  error.textContent = "";
  try {
    const p = await getJson(`/accounts/${encodeURIComponent(who)}/positions`);
    fill("positions", p.shares, [
      (s) => s.asset_id, (s) => money(s.shares), (s) => money(s.claimable_revenue), (s) => price(s.price_per_share), (s) => money(s.value),
    ]);
    fill("credit", p.credit, [
      (c) => c.asset_id, (c) => money(c.collateral), (c) => money(c.debt),
      (c) => health(c.health_factor),
      (c) => money(c.borrow_capacity), (c) => c.liquidations,
    ]);
    document.getElementById("btc-position").textContent = p.btc
      ? `BTC market: ${money(p.btc.collateral)} BTC pledged, debt ${money(p.btc.debt)}, health ${health(p.btc.health_factor)}, ` +
        `can borrow ${money(p.btc.borrow_capacity)}`
      : "";
  } catch (e) {
    error.textContent = e.message;
  }
}

async function main() {
  const status = document.getElementById("status");
  try {
    const assets = await getAll("/assets");
    fill("assets", assets, [
      (a) => a.id, (a) => a.site_id, (a) => `${a.gpu_count} × ${a.gpu_class}`, (a) => a.status,
      (a) => pct(a.utilization_bps), (a) => a.leased_gpus, (a) => price(a.price_per_share),
    ]);
    const select = document.getElementById("asset-select");
    for (const a of assets) {
      const option = document.createElement("option");
      option.value = a.id;
      option.textContent = `#${a.id} ${a.site_id}`;
      select.appendChild(option);
    }
    select.addEventListener("change", () => showAsset(select.value));
    document.getElementById("positions-form").addEventListener("submit", showPositions);
    status.textContent = `${assets.length} assets`;
    if (assets.length) await showAsset(assets[0].id);
    await showCredit();
    document.body.dataset.ready = "true";
  } catch (e) {
    status.textContent = "Could not load: " + e.message;
    status.classList.add("error");
  }
}

main();
