"""The stylesheet and the one script every page inlines (nothing is fetched from elsewhere)."""

from __future__ import annotations

CSS = """
:root { --fg:#1d2430; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --card:#fff;
  --accent:#1f6feb; --ok:#1a7f37; --bad:#cf222e; --run:#1f6feb; --wait:#98a2b3;
  --warn:#9a6700; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:var(--bg); }
a { color:var(--accent); text-decoration:none; }
a:hover { text-decoration:underline; }
header.top { background:#0d1b2a; color:#fff; padding:10px 24px; display:flex;
  align-items:center; gap:16px; }
header.top .brand { color:#fff; font-weight:700; letter-spacing:.3px; }
header.top nav { color:#c9d4e3; font-size:13px; }
header.top nav a { color:#c9d4e3; }
header.top nav .sep { margin:0 6px; color:#6b7a90; }
header.top .live-flag { margin-left:auto; font-size:12px; color:#9fc1ff; display:none; }
body.polling header.top .live-flag { display:inline; }
main { padding:20px 24px 48px; max-width:1280px; }
h1 { font-size:22px; margin:0 0 4px; word-break:break-all; }
h2 { font-size:16px; margin:28px 0 10px; }
.sub { color:var(--muted); margin-bottom:16px; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:12px 16px; overflow-x:auto; }
table.grid { border-collapse:collapse; width:100%; background:var(--card); }
table.grid th, table.grid td { text-align:left; padding:7px 10px;
  border-bottom:1px solid var(--line); vertical-align:top; }
table.grid th { font-size:12px; color:var(--muted); font-weight:600; text-transform:uppercase;
  letter-spacing:.4px; background:#fafbfc; }
table.grid tr:last-child td { border-bottom:none; }
.wrap { border:1px solid var(--line); border-radius:8px; overflow:auto; background:var(--card); }
.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
  font-weight:600; color:#fff; background:var(--wait); white-space:nowrap; }
.st-completed, .st-succeeded { background:var(--ok); }
.st-failed { background:var(--bad); }
.st-running { background:var(--run); }
.st-interrupted { background:var(--warn); }
.st-pending, .st-not-run { background:var(--wait); }
.tag { display:inline-block; padding:0 7px; margin:1px 3px 1px 0; border-radius:4px;
  background:#eef2f7; color:#344054; font-size:12px; border:1px solid #dde3ea;
  max-width:360px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap;
  vertical-align:middle; }
a.tag:hover { background:#dfe8f5; text-decoration:none; }
.tag.sys { background:transparent; color:var(--muted); }
.muted { color:var(--muted); }
.empty { color:var(--muted); padding:14px 0; }
form.filters { display:flex; gap:8px; align-items:center; margin:10px 0 14px; flex-wrap:wrap; }
form.filters input, form.filters select, form.filters button { font:inherit; padding:5px 8px;
  border:1px solid #cfd5dd; border-radius:6px; background:#fff; }
form.filters button { background:var(--accent); color:#fff; border-color:var(--accent); }
.pager { display:flex; gap:14px; margin-top:12px; align-items:center; }
pre { margin:0; white-space:pre-wrap; word-break:break-word;
  font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
pre.log { background:#0f1720; color:#dbe4ee; padding:12px 14px; border-radius:8px;
  max-height:480px; overflow:auto; }
pre.log.stderr { color:#ffd8d3; }
.value { max-height:260px; overflow:auto; }
/* value previews (headwater.cards.preview): a table scrolls inside its cell, not the page */
table.artifacts td:last-child { width:100%; max-width:0; }
.hw-meta, .hw-muted { color:var(--muted); font-size:12px; }
.hw-meta { margin:0 0 4px; }
.hw-scroll { overflow:auto; max-width:100%; }
pre.hw-value { background:#fafbfc; border:1px solid var(--line); border-radius:6px;
  padding:6px 8px; white-space:pre; overflow:auto; }
pre.hw-wrap, .hw-scalar { white-space:pre-wrap; word-break:break-word; }
.hw-scalar { font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
table.hw-table { border-collapse:collapse; font-size:12px; }
table.hw-table th, table.hw-table td { border:1px solid var(--line); padding:2px 6px;
  white-space:nowrap; text-align:left; }
table.hw-table thead th { background:#fafbfc; font-weight:600; }
table.grid table.hw-table th, table.grid table.hw-table td { padding:2px 6px; font-size:12px;
  text-transform:none; letter-spacing:0; color:var(--fg); border:1px solid var(--line); }
table.grid table.hw-table th.hw-index, table.grid table.hw-table tr.hw-dtypes th {
  color:var(--muted); font-weight:400; }
table.hw-data td { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
  font-variant-numeric:tabular-nums; }
tr.hw-dtypes th { font-weight:400; color:var(--muted); font-size:11px; }
th.hw-index { color:var(--muted); font-weight:400; }
table.grid .num { text-align:right; }
.nowrap { white-space:nowrap; }
.graph svg { display:block; }
.graph .node rect { stroke-width:1.5; rx:8; }
.graph .node text { font-size:12px; fill:var(--fg); }
.graph .node text.name { font-weight:600; font-size:13px; }
.graph .node.st-succeeded rect { fill:#e9f7ee; stroke:var(--ok); }
.graph .node.st-failed rect { fill:#fdecee; stroke:var(--bad); }
.graph .node.st-running rect { fill:#e8f0fe; stroke:var(--run); }
.graph .node.st-pending rect, .graph .node.st-not-run rect { fill:#f2f4f7; stroke:var(--wait);
  stroke-dasharray:4 3; }
.graph .node.st-running rect { animation:pulse 1.2s ease-in-out infinite; }
.graph .edge { fill:none; stroke:#98a2b3; stroke-width:1.5; }
.graph .edge.foreach { stroke-dasharray:6 4; }
.graph .edge-label { font-size:11px; fill:var(--muted); }
.graph a:hover rect { stroke-width:2.5; }
@keyframes pulse { 50% { opacity:.55; } }
.timeline { width:100%; border-collapse:collapse; background:var(--card); }
.timeline td { padding:3px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
.timeline td.lane { width:100%; position:relative; padding:3px 0; }
.timeline .track { position:relative; height:16px; margin:0 8px; }
.timeline .bar { position:absolute; top:2px; height:12px; border-radius:3px;
  background:var(--wait); min-width:2px; }
.timeline .bar.st-succeeded { background:var(--ok); }
.timeline .bar.st-failed { background:var(--bad); }
.timeline .bar.st-running { background:var(--run); animation:pulse 1.2s ease-in-out infinite; }
.timeline .axis td { color:var(--muted); font-size:11px; border-bottom:1px solid #cfd5dd; }
.timeline .cloned-note { height:auto; color:var(--muted); font-size:12px; }
.resumed { color:var(--muted); font-size:12px; white-space:nowrap; }
.params-cell { max-width:320px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap;
  font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
ul.inputs { list-style:none; margin:0; padding:0; }
ul.inputs li { display:inline; }
ul.inputs li + li::before { content:", "; color:var(--muted); }
.timeline .axis .track span { position:absolute; transform:translateX(-50%); }
.timeline .axis .track span:first-child { transform:none; }
.kv { margin:0; display:grid; grid-template-columns:max-content 1fr; gap:4px 18px; }
.kv dt { color:var(--muted); }
.kv dd { margin:0; }
details > summary { cursor:pointer; color:var(--accent); }
.attempt-exc { color:var(--bad); font-weight:600; }
iframe.card { width:100%; height:70vh; min-height:360px; border:1px solid var(--line);
  border-radius:8px; background:#fff; resize:vertical; }
.card-head { display:flex; gap:12px; align-items:baseline; margin:14px 0 6px; }
.error-box { background:#fdecee; border:1px solid #f5c2c7; color:#842029; padding:12px 16px;
  border-radius:8px; }
"""

# Polls the JSON URL in body[data-poll]; when the version changes, fetches this page again and
# swaps #live for the new one (keeping open <details>); stops once the answer says done.
SCRIPT = """
(function () {
  var body = document.body, url = body.getAttribute('data-poll');
  if (!url) return;
  var version = body.getAttribute('data-version'), busy = false, timer = null;
  body.classList.add('polling');
  function openDetails() {
    var ids = {};
    document.querySelectorAll('#live details[open][id]').forEach(function (d) { ids[d.id] = 1; });
    return ids;
  }
  function refresh() {
    return fetch(location.href, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, 'text/html');
      var fresh = doc.getElementById('live'), old = document.getElementById('live');
      if (!fresh || !old) return;
      var open = openDetails();
      fresh = document.importNode(fresh, true);
      fresh.querySelectorAll('details[id]').forEach(function (d) {
        if (open[d.id]) d.open = true;
      });
      old.replaceWith(fresh);
      document.title = doc.title;
      version = doc.body.getAttribute('data-version') || version;
    });
  }
  function stop() { clearInterval(timer); body.classList.remove('polling'); }
  function tick() {
    if (busy) return;
    busy = true;
    fetch(url, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (s) {
      var changed = s.version !== version;
      var next = changed ? refresh() : Promise.resolve();
      return next.then(function () { if (s.done) stop(); });
    }).catch(function () {}).then(function () { busy = false; });
  }
  timer = setInterval(tick, 1000);
})();
"""
