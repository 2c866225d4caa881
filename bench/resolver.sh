#!/usr/bin/env bash
# The resolver against postfix-mta-sts-resolver (pmsr), measured the same way in one go with
# ../shared/tools/socketmap-bench.sh (1 000 enforce-policy domains + 1 000 without MTA-STS,
# 50 persistent connections, one outstanding lookup each, in a network namespace), printed
# side by side with ratios. Needs root. Env: N, CONNS, SECS (passed to the harness), RUNS (1).
# Installs what the harness needs from Debian when missing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
HARNESS=${SOCKETMAP_BENCH:-$ROOT/../shared/tools/socketmap-bench.sh}
[ -x "$HARNESS" ] || HARNESS=/work/shared/tools/socketmap-bench.sh
RUNS=${RUNS:-1}
PORT=${PORT:-18461}

need=()
command -v mta-sts-daemon >/dev/null || need+=(postfix-mta-sts-resolver)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v nginx >/dev/null || need+=(nginx-light)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi
[ -f "$ROOT/dist/cli/bin.js" ] || (cd "$ROOT" && npx tsc -p tsconfig.build.json)

OUT=$(mktemp -d /tmp/resolver-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
# Our daemon (dist/resolver/bin.js: `mta-sts resolver` without loading the other commands, so it
# starts within the harness's 10-second wait on a loaded machine) gets the same configuration the harness writes for pmsr; both trust the bench CA
# through the environment the harness sets (SSL_CERT_FILE for pmsr, NODE_EXTRA_CA_CERTS for us).
OURS="printf 'host: 127.0.0.1\nport: %s\ncache:\n  type: internal\n  options:\n    cache_size: 100000\ndefault_zone:\n  strict_testing: false\n  timeout: 4\n' $PORT > \"\$BENCH_DIR/ours.yml\" && exec node $ROOT/dist/resolver/bin.js --config \"\$BENCH_DIR/ours.yml\""
for run in $(seq "$RUNS"); do
  echo "run $run/$RUNS: mta-sts-kit resolver" >&2
  bash "$HARNESS" "$PORT" bash -c "$OURS" > "$OUT/ours.$run.jsonl"
  echo "run $run/$RUNS: postfix-mta-sts-resolver" >&2
  bash "$HARNESS" "$PORT" pmsr > "$OUT/pmsr.$run.jsonl"
done

node --input-type=module - "$OUT" "$RUNS" <<'JS'
import { readFileSync } from 'node:fs';
const [dir, runs] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const load = (who) => {
  const by = {};
  for (let r = 1; r <= Number(runs); r++) {
    for (const line of readFileSync(`${dir}/${who}.${r}.jsonl`, 'utf8').split('\n').filter(Boolean)) {
      let parsed;
      try { parsed = JSON.parse(line); } catch { console.error(`${who} run ${r}: unreadable line: ${line}`); continue; }
      (by[parsed.measure] ??= []).push(parsed.result);
    }
  }
  return by;
};
const ours = load('ours'), pmsr = load('pmsr');
const fmt = (n, d = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
const rows = [['measure', 'ours lookups/s', 'pmsr lookups/s', 'ratio', 'ours p99 ms', 'pmsr p99 ms', 'ours OK/NOTFOUND/other', 'pmsr OK/NOTFOUND/other']];
for (const m of ['policy-domains-warm', 'no-policy-domains', 'harness-ceiling-constant-answer']) {
  const o = ours[m] ?? [], p = pmsr[m] ?? [];
  const orps = median(o.map((x) => x.rps)), prps = median(p.map((x) => x.rps));
  const counts = (xs) => xs.length ? `${xs[0].ok}/${xs[0].notfound}/${xs[0].other}` : '-';
  rows.push([m, fmt(orps), fmt(prps), m.startsWith('harness') ? '-' : `${fmt(orps / prps, 2)}x`,
    fmt(median(o.map((x) => x.p99_ms)), 2), fmt(median(p.map((x) => x.p99_ms)), 2), counts(o), counts(p)]);
}
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '));
console.log(`(median of ${runs} run(s); the ceiling row is the harness's constant-answer server, measured in both passes)`);
JS
