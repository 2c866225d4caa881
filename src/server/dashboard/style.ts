// The dashboard's one stylesheet, served from /assets/dashboard.css (a CSP without inline styles).
export const DASHBOARD_CSS = `
:root{--ok:#2e8b57;--fail:#c62828;--ink:#1d2330;--muted:#5f6b7a;--line:#dde2e8;--bg:#f6f8fa;--card:#fff;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center}
header .brand{font-weight:700;margin-right:auto}
header nav{display:flex;flex-wrap:wrap;gap:.2rem .9rem}
header a{color:#cfe0ff;text-decoration:none}
header a[aria-current=page]{color:#fff;border-bottom:2px solid #fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.4rem 0 1rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(19rem,1fr));gap:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.9rem 1rem}
.card h2{margin:0 0 .3rem;font-size:1.05rem;word-break:break-all}
.stats{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.3rem 0 .5rem;color:var(--muted)}
.stats b{color:var(--ink)}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:99px;font-size:.8rem;font-weight:600;border:1px solid currentColor}
.mode-enforce{color:#1b5e20}.mode-testing{color:#a05a00}.mode-none,.mode-unknown{color:var(--muted)}
.ready-ready{color:#1b5e20}.ready-not-ready{color:var(--fail)}.ready-no-data,.ready-not-applicable,.ready-enforcing{color:var(--muted)}
.verdict-ok{color:#1b5e20}.verdict-warn{color:#a05a00}.verdict-fail{color:var(--fail)}.verdict-none{color:var(--muted)}
.readiness{font-size:.9rem;margin:.4rem 0 0}
svg.chart{width:100%;height:auto;display:block}
svg.chart rect.ok{fill:var(--ok)} svg.chart rect.fail{fill:var(--fail)}
svg.chart .grid{stroke:var(--line);stroke-width:1} svg.chart .axis{font-size:13px;fill:var(--muted)}
.nochart{margin:.6rem 0;padding:1.2rem;text-align:center;border:1px dashed var(--line);border-radius:6px}
.legend{font-size:.8rem;color:var(--muted)} .legend .sw{display:inline-block;width:.7rem;height:.7rem;margin:0 .25rem 0 .6rem;vertical-align:-1px}
.sw.ok{background:var(--ok)} .sw.fail{background:var(--fail)}
.scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
td.day{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.breakdowns{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem .8rem;align-items:flex-end;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.7rem}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
input,select,button{font:inherit;padding:.3rem .4rem;border:1px solid #b8c1cc;border-radius:5px;background:#fff}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
pre{background:#0f1720;color:#e6edf3;padding:.8rem;border-radius:8px;overflow-x:auto;font-size:.82rem}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem}
dl.fields dt{color:var(--muted)} dl.fields dd{margin:0;word-break:break-word}
.muted{color:var(--muted)} .error{color:var(--fail)} .notice{background:#fff8e1;border:1px solid #f0d98c;border-radius:8px;padding:.6rem .8rem}
ul.findings{padding-left:1.1rem} ul.findings li{margin:.2rem 0}
.login{max-width:22rem;margin:3rem auto;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1.2rem}
.login label{display:block;margin:.6rem 0 .2rem}.login input{width:100%}.login button{margin-top:1rem;width:100%}
form.inline{display:inline;margin:0}button.linkish{background:none;border:none;color:#cfe0ff;padding:0;font:inherit;cursor:pointer}
@media (max-width:40rem){main{padding:.6rem}th,td{padding:.35rem .4rem}dl.fields{grid-template-columns:1fr}dl.fields dt{margin-top:.4rem}}
`;
