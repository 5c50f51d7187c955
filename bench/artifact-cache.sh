#!/usr/bin/env bash
# The artifact cache benchmark: 1 GiB layers pulled from CNCF distribution (Debian's docker-registry) directly, through a
# Berth cache rule for the first time, from Berth's cache again, and from an ordinary Berth repository; Berth's resident
# memory growth during each first pull; and the CPU time each process spends per pull. One client (curl, body discarded,
# digest not checked by the client) on 127.0.0.1; everything lives in one temp folder removed on exit. Run through
# bench/run.sh --artifact-cache.
#
# Each measured first pull is of a layer Berth has never seen (distinct layers upstream), on one running server whose
# request path was warmed by three first pulls of a small layer, so the figure is a first pull on a server in service,
# not the JIT compiler's start-up work.
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
for tool in docker-registry curl jq sha256sum skopeo /usr/bin/time; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bench/run.sh installs it)" >&2; exit 1; }; done
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
DIST_PID=$!
PIDS+=("$DIST_PID")
wait_http "http://127.0.0.1:$DIST_PORT/v2/"
BYTES=$((SIZE_MIB * 1048576))
push_layer() { # file -> digest, pushed to distribution's library/big
  local digest upload
  digest="sha256:$(sha256sum "$1" | cut -d' ' -f1)"
  upload=$(curl -sf -D - -o /dev/null -X POST "http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/uploads/" | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
  [[ $upload == http* ]] || upload="http://127.0.0.1:$DIST_PORT$upload"
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$1" "$upload&digest=$digest"
  echo "$digest"
}
# Layer 0 is pulled directly; layers 1..RUNS are first pulls with curl, RUNS+1..2*RUNS first pulls with skopeo. Each
# layer is also an image (tag v<n>) for skopeo.
LAYERS=$((2 * RUNS + 1))
push_image() { # index digest: an image of the one layer, tagged v<index>
  local config digest upload manifest
  config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$2\"]}}"
  printf '%s' "$config" >"$WORK/config.json"
  digest=$(push_layer "$WORK/config.json")
  manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$digest\",\"size\":${#config}},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$2\",\"size\":$BYTES}]}"
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$manifest" "http://127.0.0.1:$DIST_PORT/v2/library/big/manifests/v$1"
}
log "creating $LAYERS images of one ${SIZE_MIB} MiB layer each (distinct digests) and three 64 MiB warm-up layers"
head -c $((BYTES - 4096)) /dev/urandom >"$WORK/bulk"
DIGESTS=()
for index in $(seq 0 $((LAYERS - 1))); do
  { head -c 4096 /dev/urandom; cat "$WORK/bulk"; } >"$WORK/layer"
  DIGESTS+=("$(push_layer "$WORK/layer")")
  push_image "$index" "${DIGESTS[$index]}"
done
rm -f "$WORK/bulk"
DIGEST=${DIGESTS[0]}
WARMUPS=()
for _ in 1 2 3; do head -c $((64 * 1048576)) /dev/urandom >"$WORK/small"; WARMUPS+=("$(push_layer "$WORK/small")"); done
rm -f "$WORK/small"

# Berth with a cache rule big -> 127.0.0.1:$DIST_PORT/library/big, over a fresh data folder each time it starts.
BERTH_PID=""
start_berth() {
  BERTH_PORT=$(free_port)
  BERTH_DATA="$WORK/berth-data"
  dotnet "$BERTH_DLL" serve --urls "http://127.0.0.1:$BERTH_PORT" --data "$BERTH_DATA" --Berth:Throttling:Enabled=false \
    "--Berth:ArtifactCache:AllowHttpUpstreams:0=127.0.0.1:$DIST_PORT" >"$WORK/berth.log" 2>&1 &
  BERTH_PID=$!
  PIDS+=("$BERTH_PID")
  wait_http "http://127.0.0.1:$BERTH_PORT/healthz"
  for _ in $(seq 100); do [[ -s "$BERTH_DATA/admin-credentials.json" ]] && break; sleep 0.1; done
  REGISTRY=$(jq -r .registry "$BERTH_DATA/admin-credentials.json")
  AUTH="$(jq -r .username "$BERTH_DATA/admin-credentials.json"):$(jq -r .password "$BERTH_DATA/admin-credentials.json")"
  (cd "$WORK" && dotnet "$BERTH_DLL" acr cache create -r "$REGISTRY" -n big-rule -s "127.0.0.1:$DIST_PORT/library/big" -t big --data "$BERTH_DATA" >/dev/null)
  # Warm the request path (JIT tiers, connection pools) with first pulls of small layers, so what is measured is the
  # big pulls' own work and RSS growth.
  curl -sf -u "$AUTH" -o /dev/null "http://127.0.0.1:$BERTH_PORT/v2/"
  for warm in "${WARMUPS[@]}"; do curl -sf -u "$AUTH" -o /dev/null "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/$warm"; done
  sleep 2
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
CPU_LOG="$WORK/cpu"
pull() { # url [user:password] -> seconds; appends "berth distribution curl" CPU seconds of the pull to $CPU_LOG
  local start end b0 d0 b1 d1 curl_cpu
  b0=$( [[ -n "$BERTH_PID" ]] && cpu_ticks "$BERTH_PID" || echo 0); d0=$(cpu_ticks "$DIST_PID")
  start=$(seconds)
  /usr/bin/time -o "$WORK/curl-time" -f '%U %S' curl -sf ${2:+-u "$2"} -o /dev/null "$1"
  curl_cpu=$(awk '{ print $1 + $2 }' "$WORK/curl-time")
  end=$(seconds)
  b1=$( [[ -n "$BERTH_PID" ]] && cpu_ticks "$BERTH_PID" || echo 0); d1=$(cpu_ticks "$DIST_PID")
  awk -v b=$((b1 - b0)) -v d=$((d1 - d0)) -v c="$curl_cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f %.2f %.2f\n", b / hz, d / hz, c }' >>"$CPU_LOG"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
cpu_medians() { # the CPU seconds of the pulls logged since the log was emptied, as medians per process
  local berth dist client
  berth=$(awk '{ print $1 }' "$CPU_LOG" | median); dist=$(awk '{ print $2 }' "$CPU_LOG" | median); client=$(awk '{ print $3 }' "$CPU_LOG" | median)
  : >"$CPU_LOG"
  echo "$berth $dist $client"
}

log "direct pulls from distribution (warm)"
: >"$CPU_LOG"
pull "http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/$DIGEST" >/dev/null
: >"$CPU_LOG"
direct=$(for _ in $(seq "$RUNS"); do pull "http://127.0.0.1:$DIST_PORT/v2/library/big/blobs/$DIGEST"; echo; done | median)
read -r _ direct_dist_cpu direct_curl_cpu <<<"$(cpu_medians)"

# First pulls through the cache: one server, each run pulls a layer it has never seen, and measures its resident memory
# growth (peak VmHWM during the pull, reset just before it, minus VmRSS before it).
start_berth
firsts=()
RSS_BEFORE=0
RSS_PEAK=0
GROWTH=0
for run in $(seq "$RUNS"); do
  echo 5 >"/proc/$BERTH_PID/clear_refs" # resets VmHWM to the current RSS
  before=$(rss_kib "$BERTH_PID")
  firsts+=("$(pull "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/${DIGESTS[$run]}" "$AUTH")")
  peak=$(hwm_kib "$BERTH_PID")
  if (( peak - before > GROWTH )); then GROWTH=$((peak - before)); RSS_BEFORE=$before; RSS_PEAK=$peak; fi
done
first=$(printf '%s\n' "${firsts[@]}" | median)
read -r first_berth_cpu first_dist_cpu first_curl_cpu <<<"$(cpu_medians)"

# The same with a real client: skopeo copies the image to a directory, verifying every digest and writing the layer to
# disk, as a pull does; directly from distribution, then first pulls through the cache (layers it has not seen).
skopeo_pull() { # image [user:password] -> seconds
  local start end
  rm -rf "$WORK/skopeo-out"
  start=$(seconds)
  skopeo copy -q --src-tls-verify=false ${2:+--src-creds "$2"} "docker://$1" "dir:$WORK/skopeo-out"
  end=$(seconds)
  rm -rf "$WORK/skopeo-out"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
log "skopeo: direct pulls, then first pulls through the cache"
skopeo_pull "127.0.0.1:$DIST_PORT/library/big:v0" >/dev/null
skopeo_direct=$(for _ in $(seq "$RUNS"); do skopeo_pull "127.0.0.1:$DIST_PORT/library/big:v0"; echo; done | median)
skopeo_first=$(for run in $(seq "$RUNS"); do skopeo_pull "127.0.0.1:$BERTH_PORT/big:v$((RUNS + run))" "$AUTH"; echo; done | median)
: >"$CPU_LOG"
log "cached and normal pulls, interleaved (the cached layer also pushed to an ordinary repository)"
LAYER=${DIGESTS[$((LAYERS - 1))]} # the bytes in $WORK/layer, brought in by the last first pull
upload=$(curl -sf -u "$AUTH" -D - -o /dev/null -X POST "http://127.0.0.1:$BERTH_PORT/v2/plain/big/blobs/uploads/" | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
curl -sf -u "$AUTH" -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T "$WORK/layer" "http://127.0.0.1:$BERTH_PORT$upload$([[ $upload == *\?* ]] && echo '&' || echo '?')digest=$LAYER"
# Both read the same stored file; one unmeasured pull each first, so both find it in the page cache.
pull "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/$LAYER" "$AUTH" >/dev/null
pull "http://127.0.0.1:$BERTH_PORT/v2/plain/big/blobs/$LAYER" "$AUTH" >/dev/null
cached_runs=()
normal_runs=()
for _ in $(seq "$RUNS"); do
  cached_runs+=("$(pull "http://127.0.0.1:$BERTH_PORT/v2/big/blobs/$LAYER" "$AUTH")")
  normal_runs+=("$(pull "http://127.0.0.1:$BERTH_PORT/v2/plain/big/blobs/$LAYER" "$AUTH")")
done
cached=$(printf '%s\n' "${cached_runs[@]}" | median)
normal=$(printf '%s\n' "${normal_runs[@]}" | median)
: >"$CPU_LOG"

# The disk's durable write rate now: a cache must store every byte of a first pull, so this bounds it (direct pulls of
# distribution are read from the page cache).
disk=$(dd if=/dev/zero of="$WORK/disk-probe" bs=1M count=512 conv=fdatasync 2>&1 | awk '/copied/ { print $(NF-1), $NF }')
rm -f "$WORK/disk-probe"
growth_mib=$(( GROWTH / 1024 ))
ratio=$(awk -v d="$direct" -v f="$first" 'BEGIN { printf "%.0f", d / f * 100 }')
skopeo_ratio=$(awk -v d="$skopeo_direct" -v f="$skopeo_first" 'BEGIN { printf "%.0f", d / f * 100 }')
cached_ratio=$(awk -v n="$normal" -v c="$cached" 'BEGIN { printf "%.0f", n / c * 100 }')
mkdir -p "$ROOT/bench/results"
out="$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-$(hostname -s)-artifact-cache.md"
cat >"$out" <<REPORT
# Artifact cache benchmark ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $(hostname -s), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM,
$(uname -r); load average at the end $(cut -d" " -f1-3 /proc/loadavg) (the machine is shared); distribution $(docker-registry --version 2>/dev/null | awk '{ print $3 }'); Berth commit $(git -C "$ROOT" rev-parse --short HEAD).
Layers of ${SIZE_MIB} MiB of random bytes, one curl client on 127.0.0.1, medians of $RUNS runs (${#firsts[@]} first pulls, each
of a layer the server had not seen, on one server warmed by three first pulls of 64 MiB layers).

| pull | seconds | MiB/s | against |
|---|---|---|---|
| curl: direct from distribution (body discarded, nothing verified) | $direct | $(mib_per_s $BYTES "$direct") | |
| curl: first pull through the cache (upstream fetch, hashed, stored, streamed) | $first | $(mib_per_s $BYTES "$first") | $ratio% of direct (goal >= 80%) |
| skopeo: direct from distribution (image to a directory, digests verified) | $skopeo_direct | $(mib_per_s $BYTES "$skopeo_direct") | |
| skopeo: first pull through the cache | $skopeo_first | $(mib_per_s $BYTES "$skopeo_first") | $skopeo_ratio% of direct (goal >= 80%) |
| cached pull (rule repository, from the store) | $cached | $(mib_per_s $BYTES "$cached") | $cached_ratio% of a normal pull |
| normal pull (ordinary repository) | $normal | $(mib_per_s $BYTES "$normal") | |

CPU seconds per pull (medians), the budget that bounds a first pull on a machine with few cores: three processes share
the cores instead of two, and Berth adds a receive, SHA-256 and a send to every byte.

| pull | Berth | distribution | curl | together |
|---|---|---|---|---|
| direct from distribution | | $direct_dist_cpu | $direct_curl_cpu | $(awk -v a="$direct_dist_cpu" -v b="$direct_curl_cpu" 'BEGIN { printf "%.2f", a + b }') |
| first pull through the cache | $first_berth_cpu | $first_dist_cpu | $first_curl_cpu | $(awk -v a="$first_berth_cpu" -v b="$first_dist_cpu" -v c="$first_curl_cpu" 'BEGIN { printf "%.2f", a + b + c }') |

With $(nproc) cores, a first pull cannot take less than its CPU total divided by $(nproc): $(awk -v a="$first_berth_cpu" -v b="$first_dist_cpu" -v c="$first_curl_cpu" -v n="$(nproc)" 'BEGIN { printf "%.2f", (a + b + c) / n }') s here.

The disk's durable write rate at the end of the run (dd, 512 MiB, fdatasync): $disk; a first pull stores every byte, so it
cannot outrun that, while the direct pulls are served from the page cache.

Berth's resident memory during a first ${SIZE_MIB} MiB pull (the largest of the runs): $((RSS_BEFORE / 1024)) MiB before,
peak $((RSS_PEAK / 1024)) MiB (VmHWM), growth $growth_mib MiB (goal <= 64 MiB).
REPORT
cat "$out"
}
main "$@"
