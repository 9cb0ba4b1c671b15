/**
 * The explorer's page: static HTML + a small script that polls /api/state and renders it. Chain data is
 * only ever put in the page through textContent (never innerHTML), and the few values the server puts
 * in the HTML go through escapeHtml, so a model's metadata URI or any other string from the chain
 * shows as text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function explorerPage(options: { rpc: string; refreshMs: number }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>opg explorer</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f6f7f9; }
  header { background: #17212f; color: #fff; padding: 12px 20px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header span { opacity: .8; font-size: 13px; }
  main { padding: 16px 20px; }
  #totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin-bottom: 18px; }
  .total { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 8px 12px; }
  .total .label { font-size: 12px; color: #5b6573; }
  .total .value { font-size: 20px; font-weight: 600; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; margin-bottom: 18px; overflow-x: auto; }
  section h2 { font-size: 15px; margin: 0; padding: 10px 12px; border-bottom: 1px solid #dde1e7; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 5px 12px; border-bottom: 1px solid #eef0f3; white-space: nowrap; font-size: 13px; }
  td.mono { font-family: ui-monospace, monospace; font-size: 12px; }
  .empty { color: #8a93a0; padding: 10px 12px; }
  .tier-signature { color: #1f6feb; } .tier-tee { color: #8250df; } .tier-zk { color: #1a7f37; }
  .status-final { color: #1a7f37; font-weight: 600; } .status-pending { color: #9a6700; font-weight: 600; }
  .status-refuted { color: #b42318; font-weight: 600; } .status-open, .status-expired, .status-cancelled { color: #5b6573; }
  #error { color: #b42318; }
</style>
</head>
<body>
<header><h1>opg explorer</h1><span id="chain">connecting to ${escapeHtml(options.rpc)}…</span><span id="error"></span></header>
<main>
  <div id="totals"></div>
  <div id="sections"></div>
</main>
<script>
"use strict";
const REFRESH_MS = ${Number(options.refreshMs)};
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function cell(value, column) {
  const text = value === null ? "—" : typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
  // Ids, addresses and hashes are shortened on screen; the full value is the tooltip and data-value.
  const long = /^0x[0-9a-fA-F]{40,}$/.test(text);
  const td = el("td", /^0x[0-9a-fA-F]{8,}/.test(text) ? "mono" : "", long ? text.slice(0, 10) + "…" + text.slice(-8) : text);
  td.dataset.col = column;
  td.dataset.value = text;
  if (long) td.title = text;
  const tier = /^(signature|tee|zk)$/.exec(text);
  if (tier) td.classList.add("tier-" + tier[1]);
  const status = /^(final|pending|refuted|open|expired|cancelled)$/.exec(text);
  if (column === "status" && status) td.classList.add("status-" + status[1]);
  return td;
}
function render(state) {
  document.getElementById("chain").textContent = "chain " + state.chainId + " · block " + state.block + " · " + state.time + " · hub " + state.hub;
  document.getElementById("error").textContent = "";
  const totals = document.getElementById("totals");
  totals.replaceChildren(...Object.entries(state.totals).map(([label, value]) => {
    const box = el("div", "total");
    box.dataset.total = label;
    box.append(el("div", "label", label), el("div", "value", value));
    return box;
  }));
  const sections = document.getElementById("sections");
  sections.replaceChildren(...state.sections.map((s) => {
    const box = el("section");
    box.id = s.id;
    box.append(el("h2", "", s.title + " (" + s.rows.length + ")"));
    if (s.rows.length === 0) { box.append(el("div", "empty", "none yet")); return box; }
    const table = el("table");
    const head = el("tr");
    head.append(...s.columns.map((c) => el("th", "", c)));
    table.append(head);
    for (const row of s.rows) {
      const tr = el("tr");
      tr.append(...row.map((value, i) => cell(value, s.columns[i])));
      table.append(tr);
    }
    box.append(table);
    return box;
  }));
  document.body.dataset.block = String(state.block);
}
async function refresh() {
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    render(body);
  } catch (error) {
    document.getElementById("error").textContent = "cannot read the chain: " + (error && error.message ? error.message : String(error));
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}
refresh();
</script>
</body>
</html>
`;
}
