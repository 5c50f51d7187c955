#!/usr/bin/env bash
# The artifact cache benchmark: a 1 GiB layer pulled from CNCF distribution (Debian's docker-registry) directly, through a
# Berth cache rule for the first time, from Berth's cache again, and from an ordinary Berth repository; and Berth's
# resident memory growth during the first pull. One client (curl, body discarded, digest not checked by the client) on
# 127.0.0.1; everything lives in one temp folder removed on exit. Run through bench/run.sh --artifact-cache.
#
#   bench/artifact-cache.sh [--size-mib 1024] [--runs 3] [--no-build]
#
# Results: bench/results/<timestamp>-<hostname>-artifact-cache.md
set -euo pipefail
main() {
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE_MIB=1024
RUNS=3
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[bench-cache $(date +%H:%M:%S)] $*" >&2; }
for tool in docker-registry curl jq sha256sum; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bench/run.sh installs it)" >&2; exit 1; }; done
BERTH_DLL="$ROOT/src/Berth.Cli/bin/Release/net10.0/berth.dll"
[[ $BUILD == 1 ]] && dotnet build "$ROOT/src/Berth.Cli" -c Release -nologo -v q -clp:ErrorsOnly
[[ -f "$BERTH_DLL" ]] || { echo "bench: missing $BERTH_DLL" >&2; exit 1; }

WORK="$(mktemp -d /tmp/berth-bench-cache.XXXXXX)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { local p; for _ in $(seq 200); do p=$((20000 + RANDOM % 30000)); [[ -z "$(ss -Hltn "sport = :$p")" ]] && { echo "$p"; return; }; done; exit 1; }
wait_http() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "bench: $1 did not answer" >&2; exit 1; }
seconds() { date +%s.%N; }
mib_per_s() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# Upstream: distribution with the layer.
DIST_PORT=$(free_port)
cat >"$WORK/distribution.yml" <<CONF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $WORK/dist-data }, cache: { blobdescriptor: inmemory } }
http: { addr: 127.0.0.1:$DIST_PORT }
CONF
docker-registry serve "$WORK/distribution.yml" >"$WORK/distribution.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$DIST_PORT/v2/"
log "creating a ${SIZE_MIB} MiB layer"
head -c $((SIZE_MIB * 1048576)) /dev/urandom >"$WORK/layer"
DIGEST="sha256:$(sha256sum "$WORK/layer" | cut -d' ' -f1)"
BYTES=$((SIZE_MIB * 1048576))
upload=$(curl -sf -D - -o /dev/null -X POST "http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/uploads/" | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
[[ $upload == http* ]] || upload="http://127.0.0.1:$DIST_PORT$upload"
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$WORK/layer" "$upload&digest=$DIGEST"

# Berth with a cache rule big -> 127.0.0.1:$DIST_PORT/library/big, over a fresh data folder each time it starts.
BERTH_PID=""
start_berth() {
  [[ -n "$BERTH_PID" ]] && { kill "$BERTH_PID"; wait "$BERTH_PID" 2>/dev/null || true; }
  BERTH_PORT=$(free_port)
  BERTH_DATA="$WORK/berth-data-$1"
  dotnet "$BERTH_DLL" serve --urls "http://127.0.0.1:$BERTH_PORT" --data "$BERTH_DATA" --Berth:Throttling:Enabled=false \
    "--Berth:ArtifactCache:AllowHttpUpstreams:0=127.0.0.1:$DIST_PORT" >"$WORK/berth-$1.log" 2>&1 &
  BERTH_PID=$!
  PIDS+=("$BERTH_PID")
  wait_http "http://127.0.0.1:$BERTH_PORT/healthz"
  for _ in $(seq 100); do [[ -s "$BERTH_DATA/admin-credentials.json" ]] && break; sleep 0.1; done
  REGISTRY=$(jq -r .registry "$BERTH_DATA/admin-credentials.json")
  AUTH="$(jq -r .username "$BERTH_DATA/admin-credentials.json"):$(jq -r .password "$BERTH_DATA/admin-credentials.json")"
  (cd "$WORK" && dotnet "$BERTH_DLL" acr cache create -r "$REGISTRY" -n big-rule -s "127.0.0.1:$DIST_PORT/library/big" -t big --data "$BERTH_DATA" >/dev/null)
  # Warm the request path (JIT, connection pools) on something small, so RSS growth is the pull's own.
  curl -sf -u "$AUTH" -o /dev/null "http://127.0.0.1:$BERTH_PORT/v2/"
  curl -s -u "$AUTH" -o /dev/null "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000"
}

pull() { # url [user:password] -> seconds
  local start end
  start=$(seconds)
  if [[ -n "${2:-}" ]]; then curl -sf -u "$2" -o /dev/null "$1"; else curl -sf -o /dev/null "$1"; fi
  end=$(seconds)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

log "direct pulls from distribution (warm)"
pull "http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/$DIGEST" >/dev/null
direct=$(for _ in $(seq "$RUNS"); do pull "http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/$DIGEST"; echo; done | median)

# First pulls through the cache: each run starts a Berth over a fresh data folder, so it is a true first pull, and
# measures its resident memory growth (peak VmHWM during the pull minus VmRSS before it).
firsts=()
RSS_BEFORE=0
RSS_PEAK=0
GROWTH=0
for run in $(seq "$RUNS"); do
  start_berth "$run"
  before=$(rss_kib "$BERTH_PID")
  firsts+=("$(pull "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/$DIGEST" "$AUTH")")
  peak=$(hwm_kib "$BERTH_PID")
  if (( peak - before > GROWTH )); then GROWTH=$((peak - before)); RSS_BEFORE=$before; RSS_PEAK=$peak; fi
done
first=$(printf '%s\n' "${firsts[@]}" | median)
log "cached pulls"
cached=$(for _ in $(seq "$RUNS"); do pull "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/$DIGEST" "$AUTH"; echo; done | median)

log "normal pulls (the same bytes pushed to an ordinary repository)"
upload=$(curl -sf -u "$AUTH" -D - -o /dev/null -X POST "http://127.0.0.1:$BERTH_PORT/v2/plain/big/blobs/uploads/" | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
curl -sf -u "$AUTH" -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$WORK/layer" "http://127.0.0.1:$BERTH_PORT$upload$([[ $upload == *\?* ]] && echo '&' || echo '?')digest=$DIGEST"
normal=$(for _ in $(seq "$RUNS"); do pull "http://127.0.0.1:$BERTH_PORT/v2/plain/big/blobs/$DIGEST" "$AUTH"; echo; done | median)

# The disk's durable write rate now: a cache must store every byte of a first pull, so this bounds it (direct pulls of
# distribution are read from the page cache).
disk=$(dd if=/dev/zero of="$WORK/disk-probe" bs=1M count=512 conv=fdatasync 2>&1 | awk '/copied/ { print $(NF-1), $NF }')
rm -f "$WORK/disk-probe"
growth_mib=$(( GROWTH / 1024 ))
ratio=$(awk -v d="$direct" -v f="$first" 'BEGIN { printf "%.0f", d / f * 100 }')
cached_ratio=$(awk -v n="$normal" -v c="$cached" 'BEGIN { printf "%.0f", n / c * 100 }')
mkdir -p "$ROOT/bench/results"
out="$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-$(hostname -s)-artifact-cache.md"
cat >"$out" <<REPORT
# Artifact cache benchmark ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $(hostname -s), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM,
$(uname -r); load average at the end $(cut -d" " -f1-3 /proc/loadavg) (the machine is shared); distribution $(docker-registry --version 2>/dev/null | awk '{ print $3 }'); Berth commit $(git -C "$ROOT" rev-parse --short HEAD).
One ${SIZE_MIB} MiB layer of random bytes, one curl client on 127.0.0.1, medians of $RUNS runs (${#firsts[@]} first pulls).

| pull | seconds | MiB/s | against |
|---|---|---|---|
| direct from distribution | $direct | $(mib_per_s $BYTES "$direct") | |
| first pull through the cache (upstream fetch, stored, streamed) | $first | $(mib_per_s $BYTES "$first") | $ratio% of direct (goal >= 80%) |
| cached pull (rule repository, from the store) | $cached | $(mib_per_s $BYTES "$cached") | $cached_ratio% of a normal pull |
| normal pull (ordinary repository) | $normal | $(mib_per_s $BYTES "$normal") | |

The disk's durable write rate at the end of the run (dd, 512 MiB, fdatasync): $disk; a first pull stores every byte, so it
cannot outrun that, while the direct pulls are served from the page cache.

Berth's resident memory during a first ${SIZE_MIB} MiB pull (the largest of the runs): $((RSS_BEFORE / 1024)) MiB before,
peak $((RSS_PEAK / 1024)) MiB (VmHWM), growth $growth_mib MiB (goal <= 64 MiB).
REPORT
cat "$out"
}
main "$@"
