/** The dashboard page: a static shell; `dashboard-client.js` fetches `/dashboard/data` and draws with uPlot. */

/** The HTML of `GET /dashboard`. Holds no data, so it is safe to serve without a token. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flotilla · Analytics</title>
<link rel="stylesheet" href="/dashboard/assets/uPlot.min.css">
<style>
  :root {
    --bg: #0b1020; --panel: #121a2f; --panel-2: #18223d; --line: #24304f; --text: #e6ebff; --muted: #8b97bd;
    --accent: #6ea8fe; --ok: #3ecf8e; --warn: #f5b84b; --bad: #ff6b6b;
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: radial-gradient(1200px 600px at 10% -10%, #1a2550 0%, var(--bg) 60%); color: var(--text);
    font: 14px/1.45 Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; min-height: 100vh; }
  header { display: flex; align-items: center; gap: 16px; padding: 18px 28px; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; font-weight: 650; letter-spacing: .2px; }
  header h1 span { color: var(--accent); }
  .live { display: inline-flex; align-items: center; gap: 8px; color: var(--muted); font-size: 12px; margin-left: auto; }
  .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--ok); box-shadow: 0 0 0 0 rgba(62,207,142,.6); animation: pulse 2s infinite; }
  .dot.stale { background: var(--bad); animation: none; }
  @keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(62,207,142,.6); } 70% { box-shadow: 0 0 0 8px rgba(62,207,142,0); } 100% { box-shadow: 0 0 0 0 rgba(62,207,142,0); } }
  .tenant { color: var(--muted); font-size: 12px; border: 1px solid var(--line); border-radius: 999px; padding: 3px 10px; }
  main { padding: 22px 28px 40px; display: grid; gap: 18px; grid-template-columns: repeat(12, 1fr); }
  .card { background: linear-gradient(180deg, var(--panel-2), var(--panel)); border: 1px solid var(--line); border-radius: 14px; padding: 16px 18px; }
  .kpi { grid-column: span 2; }
  .kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .6px; }
  .kpi .value { font-size: 28px; font-weight: 700; margin-top: 6px; font-variant-numeric: tabular-nums; }
  .kpi .sub { color: var(--muted); font-size: 12px; margin-top: 2px; }
  .wide { grid-column: span 8; } .side { grid-column: span 4; } .half { grid-column: span 6; } .full { grid-column: span 12; }
  h2 { font-size: 13px; margin: 0 0 10px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .6px; }
  .chart { min-height: 240px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid var(--line); }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.num, th.num { text-align: right; }
  .pill { display: inline-block; padding: 2px 9px; border-radius: 999px; font-size: 11px; font-weight: 600; }
  .pill.ok { background: rgba(62,207,142,.15); color: var(--ok); }
  .pill.behind { background: rgba(245,184,75,.15); color: var(--warn); }
  .pill.dead-letters { background: rgba(255,107,107,.15); color: var(--bad); }
  .pill.missing { background: rgba(139,151,189,.15); color: var(--muted); }
  .bars .row { display: grid; grid-template-columns: 1fr auto; gap: 4px 10px; margin: 8px 0; }
  .bars .track { grid-column: span 2; height: 6px; background: var(--line); border-radius: 4px; overflow: hidden; }
  .bars .fill { height: 100%; background: linear-gradient(90deg, var(--accent), #a78bfa); border-radius: 4px; }
  .muted { color: var(--muted); }
  .error { grid-column: span 12; color: var(--bad); display: none; }
  .uplot .u-legend { color: var(--text); font-size: 12px; }
  .uplot .u-legend th { color: var(--text); }
  @media (max-width: 1100px) { .kpi { grid-column: span 4; } .wide, .side, .half { grid-column: span 12; } }
</style>
</head>
<body>
<header>
  <h1>Flotilla · <span>Analytics</span></h1>
  <span class="tenant" id="tenant">all tenants</span>
  <span class="live"><span class="dot" id="dot"></span><span id="updated">loading…</span></span>
</header>
<main>
  <div class="error card" id="error"></div>
  <div class="card kpi"><div class="label">Events · last hour</div><div class="value" id="k-hour">–</div><div class="sub" id="k-rate">–</div></div>
  <div class="card kpi"><div class="label">Events · last 24 h</div><div class="value" id="k-day">–</div><div class="sub" id="k-types">–</div></div>
  <div class="card kpi"><div class="label">Uniques · this hour</div><div class="value" id="k-u-hour">–</div><div class="sub">distinct actors (HyperLogLog)</div></div>
  <div class="card kpi"><div class="label">Uniques · 24 h</div><div class="value" id="k-u-day">–</div><div class="sub">distinct actors (HyperLogLog)</div></div>
  <div class="card kpi"><div class="label">Duration p95 · 24 h</div><div class="value" id="k-p95">–</div><div class="sub" id="k-p50">–</div></div>
  <div class="card kpi"><div class="label">Dead letters</div><div class="value" id="k-dlq">–</div><div class="sub" id="k-lag">–</div></div>
  <section class="card wide"><h2>Events per minute · last hour</h2><div class="chart" id="chart-hour" data-chart="lastHour"></div></section>
  <section class="card side"><h2>Top event types · 24 h</h2><div class="bars" id="top"></div></section>
  <section class="card half"><h2>Events per hour · last 24 hours</h2><div class="chart" id="chart-day" data-chart="lastDay"></div></section>
  <section class="card half"><h2>Unique actors per hour · last 24 hours</h2><div class="chart" id="chart-uniques" data-chart="uniques"></div></section>
  <section class="card wide"><h2>Pipeline health · consumer groups</h2>
    <table><thead><tr><th>group</th><th>status</th><th class="num">lag</th><th class="num">pending</th><th class="num">consumers</th><th class="num">dead letters</th></tr></thead>
    <tbody id="pipeline"></tbody></table></section>
  <section class="card side"><h2>Scheduled jobs</h2><table><tbody id="jobs"></tbody></table></section>
</main>
<script src="/dashboard/assets/uPlot.iife.min.js"></script>
<script src="/dashboard/assets/dashboard.js"></script>
</body>
</html>
`
