#!/usr/bin/env bash
# Whole-process figures for `soc normalize` (BENCHMARKS.md): 1M generated lines per source,
# per thread count, with peak RSS from /usr/bin/time -v, beside the floor of reading and
# writing the same lines. Usage: benches/normalize_whole.sh [DIR] [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/soc-bench}
LINES=${2:-1000000}
mkdir -p "$DIR"
cargo build --release --bin soc --example gen_logs >&2
BIN=${CARGO_TARGET_DIR:-target}/release
for kind in nginx sshd json; do
  [ -s "$DIR/$kind.log" ] || "$BIN/examples/gen_logs" "$kind" "$LINES" --seed 1 -o "$DIR/$kind.log"
done
[ -s "$DIR/nginx.log.gz" ] || gzip -k -6 "$DIR/nginx.log"

# One run (label, threads, input file whose size counts as MB in (decompressed), command...):
# prints a table row (events/s, MB/s of input, CPU-seconds, peak RSS).
row() {
  local label=$1 threads=$2 input=$3; shift 3
  /usr/bin/time -v -o "$DIR/time.txt" "$@" >/dev/null 2>"$DIR/stderr.txt" || true
  local wall user sys rss
  wall=$(grep "Elapsed (wall" "$DIR/time.txt" | awk -F': ' '{print $2}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  user=$(grep "User time" "$DIR/time.txt" | awk -F': ' '{print $2}')
  sys=$(grep "System time" "$DIR/time.txt" | awk -F': ' '{print $2}')
  rss=$(grep "Maximum resident" "$DIR/time.txt" | awk -F': ' '{print $2}')
  local bytes; bytes=$(stat -c %s "$input" 2>/dev/null || echo 0)
  awk -v l="$label" -v t="$threads" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$LINES" -v b="$bytes" 'BEGIN {
    cpu = u + s;
    printf "| %s | %s | %.0f | %.1f | %.2f | %.2f | %.0f | %.1f |\n", l, t, n / w, b / 1e6 / w, w, cpu, n / cpu, r / 1024 }'
}

echo "| run | threads | events/s | MB/s in | wall s | CPU s | events/CPU-s | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for kind in nginx sshd json; do
  row "floor: cat $kind" 1 "$DIR/$kind.log" sh -c 'cat "$0" > "$1"' "$DIR/$kind.log" "$DIR/out.ndjson"
  row "floor: soc normalize --rule '*' $kind" 2 "$DIR/$kind.log" "$BIN/soc" normalize -q --rule '*' "$DIR/$kind.log" -o "$DIR/out.ndjson"
done
for t in 1 2; do
  row "nginx (examples/nginx.spl)" $t "$DIR/nginx.log" "$BIN/soc" normalize -q --rule examples/nginx.spl "$DIR/nginx.log" -o "$DIR/out.ndjson" --threads $t
  row "nginx (rules/nginx/rule.spl)" $t "$DIR/nginx.log" "$BIN/soc" normalize -q --rule rules/nginx/rule.spl "$DIR/nginx.log" -o "$DIR/out.ndjson" --threads $t
  row "nginx .gz → .gz" $t "$DIR/nginx.log" "$BIN/soc" normalize -q --rule examples/nginx.spl "$DIR/nginx.log.gz" -o "$DIR/out.ndjson.gz" --threads $t
  row "sshd (rules/sshd/rule.spl)" $t "$DIR/sshd.log" "$BIN/soc" normalize -q --rule rules/sshd/rule.spl "$DIR/sshd.log" -o "$DIR/out.ndjson" --threads $t
  row "json (examples/json.spl)" $t "$DIR/json.log" "$BIN/soc" normalize -q --rule examples/json.spl "$DIR/json.log" -o "$DIR/out.ndjson" --threads $t
done
