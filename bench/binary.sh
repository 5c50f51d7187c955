#!/usr/bin/env bash
# How Berth starts and how much memory it holds, by the way it is shipped: the single-file executable from
# scripts/publish.sh against the framework-dependent build (`dotnet berth.dll`, what `dotnet run` starts after its
# build check). For each: size on disk, time from exec to the first 401 on /v2/ (empty data folder, then a restart on
# it), RSS after 5 s idle, and RSS and throughput under 20 s of wrk pulling one 64 KiB blob with the admin's Basic
# credentials. Everything listens on 127.0.0.1; each server is stopped with SIGTERM and its data folder removed.
#
#   bench/binary.sh                                  the framework-dependent build and artifacts/publish/linux-x64/berth
#   bench/binary.sh --runs 5                         start-up measured 5 times each (medians; default 3)
#   bench/binary.sh --also "label=command ..."       another server command to measure (repeatable), e.g. an older build:
#                                                    --also "main=dotnet /tmp/main/src/Berth.Cli/bin/Release/net10.0/berth.dll"
#
# Results: bench/results/<timestamp>-<hostname>-binary.md
set -euo pipefail

main() {
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=3
LOAD_SECONDS=20
declare -a LABELS=("framework-dependent" "single-file")
declare -a COMMANDS=("dotnet $ROOT/src/Berth.Cli/bin/Release/net10.0/berth.dll" "$ROOT/artifacts/publish/linux-x64/berth")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift ;;
    --also) LABELS+=("${2%%=*}"); COMMANDS+=("${2#*=}"); shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "binary bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for tool in wrk curl jq python3; do command -v "$tool" >/dev/null || { echo "binary bench: $tool is needed (apt-get install -y $tool)" >&2; exit 2; }; done

WORK="$(mktemp -d /tmp/berth-binary-bench.XXXXXX)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
  [[ -n "${RESULTS:-}" ]] && rm -f "$RESULTS.tmp"  # a run that stopped part-way leaves no half table
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# Starts "$command serve" on a fresh port over $data; sets PID, PORT and STARTUP_MS (exec to the first 401). Called
# directly, never in $(...): a subshell would keep PID to itself.
start() {
  local command="$1" data="$2" log="$3"
  PORT="$(free_port)"
  local started; started="$(now_ms)"
  # shellcheck disable=SC2086 # the command is a program and its leading arguments
  ASPNETCORE_ENVIRONMENT=Production $command serve --urls "http://127.0.0.1:$PORT" --data "$data" >"$log" 2>&1 &
  PID=$!
  local deadline=$(( started + 120000 ))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/")" == 401 ]]; do
    kill -0 "$PID" 2>/dev/null || { echo "binary bench: the server exited; its log:" >&2; cat "$log" >&2; exit 1; }
    (( $(now_ms) < deadline )) || { echo "binary bench: no 401 within 120 s" >&2; exit 1; }
    sleep 0.01
  done
  STARTUP_MS=$(( $(now_ms) - started ))
}

stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

size_of() {
  local program="${1%% *}"
  if [[ "$program" == dotnet ]]; then
    local dll="${1#dotnet }"
    echo "$(du -sm "$(dirname "$dll")" | cut -f1) MiB build folder + $(du -sm /usr/share/dotnet/shared | cut -f1) MiB shared runtimes"
  else
    echo "$(( $(stat -c %s "$program") / 1048576 )) MiB, one file"
  fi
}

RESULTS="$ROOT/bench/results/$(date -u +%Y%m%d-%H%M%S)-$(hostname)-binary.md"
{
  echo "# Berth by how it is shipped: size, start-up and memory"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(hostname): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "$(( $(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024 )) MiB RAM, $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --version 2>/dev/null || echo none)."
  echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other work ran beside this)."
  echo "Start-up: median of $RUNS; first = empty data folder (keys, database and admin user created), restart = the same folder again."
  echo "Load: wrk -t1 -c8 -d${LOAD_SECONDS}s, GET of one 64 KiB blob with Basic credentials."
  echo
  echo "| build | size | first start to 401 | restart to 401 | idle RSS | RSS under load (peak) | blob GETs/s |"
  echo "|---|---|---|---|---|---|---|"
} >"$RESULTS.tmp"

for i in "${!LABELS[@]}"; do
  label="${LABELS[$i]}"; command="${COMMANDS[$i]}"
  echo "[binary bench] $label: $command" >&2
  firsts=(); restarts=()
  for run in $(seq 1 "$RUNS"); do
    data="$WORK/$label-$run"
    start "$command" "$data" "$WORK/$label-$run.log"; firsts+=("$STARTUP_MS"); stop
    start "$command" "$data" "$WORK/$label-$run-restart.log"; restarts+=("$STARTUP_MS")
    [[ $run == "$RUNS" ]] || { stop; rm -rf "$data"; }
  done
  # The last restart stays up for the memory figures.
  sleep 5
  idle="$(kib "$PID" VmRSS)"
  credentials="$(jq -r '.username + ":" + .password' "$data/admin-credentials.json")"
  head -c 65536 /dev/urandom >"$WORK/blob"
  digest="sha256:$(sha256sum "$WORK/blob" | cut -d' ' -f1)"
  curl -sf -u "$credentials" -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$WORK/blob" \
    "http://127.0.0.1:$PORT/v2/bench/blob/blobs/uploads/?digest=$digest" -o /dev/null
  authorization="Basic $(printf '%s' "$credentials" | base64 -w0)"
  rate="$(wrk -t1 -c8 -d"${LOAD_SECONDS}s" -H "Authorization: $authorization" "http://127.0.0.1:$PORT/v2/bench/blob/blobs/$digest" \
    | awk '/Requests\/sec/ { printf "%d", $2 }')"
  loaded="$(kib "$PID" VmRSS)"; peak="$(kib "$PID" VmHWM)"
  stop
  echo "| $label | $(size_of "$command") | $(printf '%s\n' "${firsts[@]}" | median) ms | $(printf '%s\n' "${restarts[@]}" | median) ms | $(( idle / 1024 )) MiB | $(( loaded / 1024 )) MiB ($(( peak / 1024 )) MiB) | $rate |" >>"$RESULTS.tmp"
  echo "[binary bench] $label: starts ${firsts[*]} ms, restarts ${restarts[*]} ms, idle $(( idle / 1024 )) MiB, loaded $(( loaded / 1024 )) MiB, $rate GETs/s" >&2
done
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
echo "[binary bench] wrote $RESULTS" >&2
}

main "$@"
