#!/usr/bin/env bash
# The side-by-side benchmark (issue 7): Berth against CNCF distribution 2.8.2 on this machine, in one run, with the
# same client, next to the machine's physical limits. Everything listens on 127.0.0.1 and lives in one temp folder
# that is removed on exit, whatever happens.
#
#   bench/run.sh                 full run: 3 runs, 512 MiB blobs, 100,000 tags, 10,000 repositories, 4 GiB blob
#   bench/run.sh --quick         smoke test: 1 run, small sizes (about 3 minutes)
#   bench/run.sh --runs 5        more runs (medians)
#   bench/run.sh --no-build      use the existing Release builds
#   bench/run.sh --update-docs   also refresh the results table in docs/performance.md
#   bench/run.sh --populate-budget 900   seconds each registry may spend creating the tags / repositories (default 90;
#                                a full 100,000 tags in distribution takes about 500 s on 2 cores)
#   bench/run.sh --artifact-cache   only the artifact cache benchmark (bench/artifact-cache.sh: first pull through a
#                                cache rule against a direct pull from distribution, cached against normal pulls, RSS)
#   bench/run.sh --scale-out     also push and pull through nginx in front of two Berth nodes sharing Azurite, PostgreSQL
#                                and Redis (needs `npm ci` in tests/Berth.Testing/node, which scripts/test.sh runs)
#
# Results: bench/results/<timestamp>-<hostname>.md and .json. See docs/performance.md.
set -euo pipefail

# The whole script is one function, so bash parses it completely before running: editing or checking out this file
# while a benchmark runs cannot derail the run.
main() {
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
RUNS=""
BUILD=1
UPDATE_DOCS=0
POPULATE_BUDGET=""
SCALE_OUT=0
ARTIFACT_CACHE=0
ARTIFACT_CACHE_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --runs) RUNS="$2"; shift ;;
    --runs=*) RUNS="${1#--runs=}" ;;
    --no-build) BUILD=0 ;;
    --update-docs) UPDATE_DOCS=1 ;;
    --scale-out) SCALE_OUT=1 ;;
    --artifact-cache) shift; ARTIFACT_CACHE_ARGS=("$@"); ARTIFACT_CACHE=1; break ;;
    --populate-budget) POPULATE_BUDGET="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ -z "$RUNS" ]] && { [[ $QUICK == 1 ]] && RUNS=1 || RUNS=3; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs needs a positive number" >&2; exit 2; }
[[ -z "$POPULATE_BUDGET" || "$POPULATE_BUDGET" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --populate-budget needs seconds" >&2; exit 2; }

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---- tools from Debian, installed only when missing -----------------------------------------------------------------
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
command -v skopeo >/dev/null || need+=(skopeo)
command -v ss >/dev/null || need+=(iproute2)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ $SCALE_OUT == 1 ]]; then
  command -v redis-server >/dev/null || need+=(redis-server)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
  AZURITE="$ROOT/tests/Berth.Testing/node/node_modules/.bin/azurite-blob"
  [[ -x "$AZURITE" ]] || { echo "bench: --scale-out needs Azurite: run 'npm ci' in tests/Berth.Testing/node (scripts/test.sh does)" >&2; exit 1; }
fi
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing from Debian: ${need[*]}"
  # Keep package scripts from starting the Debian services (docker-registry on :5000, nginx on :80).
  policy_added=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
  [[ $policy_added == 1 ]] && rm -f /usr/sbin/policy-rc.d
fi

[[ $ARTIFACT_CACHE == 1 ]] && exec "$ROOT/bench/artifact-cache.sh" "${ARTIFACT_CACHE_ARGS[@]}"

# ---- builds -----------------------------------------------------------------------------------------------------------
BERTH_DLL="$ROOT/src/Berth.Cli/bin/Release/net10.0/berth.dll"
BENCH_DLL="$ROOT/bench/Berth.Bench/bin/Release/net10.0/berth-bench.dll"
if [[ $BUILD == 1 ]]; then
  log "building Berth and the load tool (Release)"
  dotnet build "$ROOT/src/Berth.Cli" -c Release -nologo -v q -clp:ErrorsOnly
  dotnet build "$ROOT/bench/Berth.Bench" -c Release -nologo -v q -clp:ErrorsOnly
fi
[[ -f "$BERTH_DLL" && -f "$BENCH_DLL" ]] || { echo "bench: missing builds (run without --no-build)" >&2; exit 1; }

# ---- a temp folder and the servers, all cleaned up on exit ------------------------------------------------------------
WORK="$(mktemp -d /tmp/berth-bench.XXXXXX)"
chmod 711 "$WORK" # nginx's workers (not root) must reach nginx/html; secrets inside keep their own modes
PIDS=()
PG_STOP=()
cleanup() {
  local status=$? pid kept
  if [[ ${#PG_STOP[@]} -gt 0 ]]; then "${PG_STOP[@]}" >/dev/null 2>&1 || true; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ $status != 0 ]]; then
    # The services' own logs say why a run stopped (a peer that crashed, a port refused); keep them, without secrets.
    kept="$ROOT/bench/results/failed-$(date -u +%Y%m%d-%H%M%S)"
    mkdir -p "$kept"
    find "$WORK" -maxdepth 3 -name '*.log' -size -64M -exec cp --backup=numbered -t "$kept" {} + 2>/dev/null || true
    echo "bench: stopped with status $status; the services' logs are in $kept" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 30000))
    [[ -z "$(ss -Hltn "sport = :$port")" ]] && { echo "$port"; return; }
  done
  echo "bench: no free port" >&2; exit 1
}

wait_http() { # url, what, pid: until the URL answers 2xx
  for _ in $(seq 300); do
    kill -0 "$3" 2>/dev/null || { echo "bench: $2 exited during start-up; log:" >&2; tail -20 "$WORK/$2.log" >&2; exit 1; }
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.2
  done
  echo "bench: $2 did not answer at $1" >&2; exit 1
}

# Berth: throttling off (it would turn a load test into a 429 test), everything else as shipped.
BERTH_PORT=$(free_port)
BERTH_DATA="$WORK/berth-data"
BERTH_FLAGS=(--Berth:Throttling:Enabled=false)
dotnet "$BERTH_DLL" serve --urls "http://127.0.0.1:$BERTH_PORT" --data "$BERTH_DATA" "${BERTH_FLAGS[@]}" >"$WORK/berth.log" 2>&1 &
BERTH_PID=$!
PIDS+=("$BERTH_PID")
wait_http "http://127.0.0.1:$BERTH_PORT/healthz" berth "$BERTH_PID"
for _ in $(seq 100); do [[ -s "$BERTH_DATA/admin-credentials.json" ]] && break; sleep 0.1; done
CREDS="$BERTH_DATA/admin-credentials.json"
BERTH_USER=$(jq -r .username "$CREDS")
BERTH_PASSWORD=$(jq -r .password "$CREDS")
BERTH_SERVICE=$(jq -r .loginServer "$CREDS")
log "berth pid $BERTH_PID on 127.0.0.1:$BERTH_PORT (registry $BERTH_USER, login server $BERTH_SERVICE)"

# Anonymous pull on: the berth CLI (az acr update) first, the ARM PATCH with the owner's credentials second.
ANONYMOUS="not attempted"
if (cd "$WORK" && dotnet "$BERTH_DLL" acr update --name "$BERTH_USER" --anonymous-pull-enabled true --data "$BERTH_DATA" >"$WORK/acr-update.log" 2>&1); then
  ANONYMOUS=on
  ANONYMOUS_HOW="berth acr update --name $BERTH_USER --anonymous-pull-enabled true"
else
  OWNER="$BERTH_DATA/management/owner.json"
  if [[ -f "$OWNER" ]]; then
    base="http://127.0.0.1:$BERTH_PORT"
    token=$(curl -s -X POST "$base/adfs/oauth2/token" --data-urlencode grant_type=client_credentials \
      --data-urlencode "client_id=$(jq -r '.clientId // .appId // .client_id' "$OWNER")" \
      --data-urlencode "client_secret=$(jq -r '.clientSecret // .password // .client_secret' "$OWNER")" \
      --data-urlencode "resource=$base/" | jq -r '.access_token // empty')
    sub=$(jq -r '.subscriptionId // .subscription // empty' "$OWNER")
    rg=$(jq -r '.resourceGroup // empty' "$OWNER")
    if [[ -n "$token" && -n "$sub" && -n "$rg" ]] &&
       curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
         -d '{"properties":{"anonymousPullEnabled":true}}' \
         "$base/subscriptions/$sub/resourceGroups/$rg/providers/Microsoft.ContainerRegistry/registries/$BERTH_USER?api-version=2023-07-01"; then
      ANONYMOUS=on
      ANONYMOUS_HOW="ARM PATCH anonymousPullEnabled=true with the owner's credentials"
    else
      ANONYMOUS="neither 'berth acr update --anonymous-pull-enabled' nor the management API could switch anonymous pull on ($(tail -1 "$WORK/acr-update.log" 2>/dev/null))"
    fi
  else
    ANONYMOUS="'berth acr update' failed ($(tail -1 "$WORK/acr-update.log" 2>/dev/null)) and there is no management owner file"
  fi
fi
[[ $ANONYMOUS == on ]] && log "anonymous pull on ($ANONYMOUS_HOW)" || log "anonymous pull: $ANONYMOUS"

# distribution 2.8.2: filesystem storage, no auth, in-memory blob descriptor cache (as Debian ships it), quiet logs.
DIST_PORT=$(free_port)
mkdir -p "$WORK/dist-data"
cat >"$WORK/distribution.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/dist-data
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$DIST_PORT
EOF
docker-registry serve "$WORK/distribution.yml" >"$WORK/distribution.log" 2>&1 &
DIST_PID=$!
PIDS+=("$DIST_PID")
wait_http "http://127.0.0.1:$DIST_PORT/v2/" distribution "$DIST_PID"
log "distribution pid $DIST_PID on 127.0.0.1:$DIST_PORT"

# nginx: the ceiling for small HTTP responses (a static file the size of the manifest, same load tool, same connections)
# and for blob downloads (a static file of the blob's bytes, same client).
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/html" "$WORK/nginx/logs"
echo '{}' >"$WORK/nginx/html/manifest.json"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $WORK/nginx/tmp-body;
  proxy_temp_path $WORK/nginx/tmp-proxy;
  fastcgi_temp_path $WORK/nginx/tmp-fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp-uwsgi;
  scgi_temp_path $WORK/nginx/tmp-scgi;
  default_type application/vnd.oci.image.manifest.v1+json;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/nginx/html;
    # The same static blob served both ways: sendfile(2) is not always the faster one in a virtual machine.
    location /copy/ { sendfile off; alias $WORK/nginx/html/; }
  }
}
EOF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/manifest.json" nginx "$NGINX_PID"
log "nginx pid $NGINX_PID on 127.0.0.1:$NGINX_PORT"

# ---- optional: two Berth nodes behind nginx over shared Azurite, PostgreSQL and Redis ---------------------------------
SCALE_OUT_JSON=null
if [[ $SCALE_OUT == 1 ]]; then
  SO="$WORK/scale-out"
  mkdir -p "$SO/pg" "$SO/azurite" "$SO/keys" "$SO/nginx/logs"
  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user; its socket stays in our folder.
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  as_pg=()
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$SO/pg"
    chmod 711 "$SO"
    as_pg=(runuser -u postgres --)
  fi
  PG_PORT=$(free_port)
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$SO/pg/data" -U postgres --auth=trust -E UTF8 --locale=C >"$SO/initdb.log" 2>&1
  "${as_pg[@]}" "$PG_BIN/pg_ctl" start -D "$SO/pg/data" -w -t 60 -l "$SO/pg/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SO/pg -c max_connections=200" >/dev/null
  PG_STOP=("${as_pg[@]}" "$PG_BIN/pg_ctl" stop -D "$SO/pg/data" -m fast -w)
  "${as_pg[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE berth" >/dev/null
  REDIS_PORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize no >"$SO/redis.log" 2>&1 &
  PIDS+=($!)
  AZ_PORT=$(free_port)
  "$AZURITE" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --location "$SO/azurite" --silent --skipApiVersionCheck --disableTelemetry >"$SO/azurite.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do
    [[ -n "$(ss -Hltn "sport = :$AZ_PORT")" && -n "$(ss -Hltn "sport = :$REDIS_PORT")" ]] && break
    sleep 0.2
  done
  # Azurite's well-known development account (published by Azure for the emulator).
  AZ_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  NODE_FLAGS=(--Berth:Throttling:Enabled=false
    --Berth:Database:Type=PostgreSql "--Berth:Database:ConnectionString=Host=127.0.0.1;Port=$PG_PORT;Database=berth;Username=postgres"
    --Berth:Storage:Type=AzureBlob
    "--Berth:Storage:AzureBlob:ConnectionString=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;"
    "--Berth:Redis:Configuration=127.0.0.1:$REDIS_PORT" "--Berth:KeyPath=$SO/keys")
  NODE_PORTS=()
  for node in a b; do
    port=$(free_port)
    extra=()
    [[ $node == b ]] && extra=(--Berth:Management:ReissueLostOwnerSecret=false)
    dotnet "$BERTH_DLL" serve --urls "http://127.0.0.1:$port" --data "$SO/node-$node" "${NODE_FLAGS[@]}" "${extra[@]}" >"$WORK/node-$node.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/healthz" "node-$node" "$pid"
    NODE_PORTS+=("$port")
  done
  SO_PORT=$(free_port)
  {
    echo "worker_processes auto; daemon off; pid $SO/nginx/nginx.pid; error_log $SO/nginx/logs/error.log error;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "  access_log off;"
    for temp in client_body proxy fastcgi uwsgi scgi; do echo "  ${temp}_temp_path $SO/nginx/tmp-$temp;"; done
    echo "  upstream berth { server 127.0.0.1:${NODE_PORTS[0]}; server 127.0.0.1:${NODE_PORTS[1]}; }"
    echo "  server {"
    echo "    listen 127.0.0.1:$SO_PORT;"
    echo "    client_max_body_size 0;"
    echo "    location / {"
    echo "      proxy_pass http://berth; proxy_http_version 1.1;"
    echo "      proxy_set_header Host \$http_host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "      proxy_request_buffering off; proxy_buffering off;"
    echo "    }"
    echo "  }"
    echo "}"
  } >"$SO/nginx/nginx.conf"
  nginx -p "$SO/nginx" -c "$SO/nginx/nginx.conf" >"$WORK/nginx-scale-out.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$SO_PORT/healthz" nginx-scale-out "$pid"
  SO_CREDS="$SO/node-a/admin-credentials.json"
  SCALE_OUT_JSON=$(jq -n --arg url "http://127.0.0.1:$SO_PORT" --arg user "$(jq -r .username "$SO_CREDS")" \
    --arg storage "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;" \
    --arg password "$(jq -r .password "$SO_CREDS")" --arg service "$(jq -r .loginServer "$SO_CREDS")" \
    --arg description "2 Berth nodes behind nginx round-robin; blobs in Azurite, metadata in PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), Redis $(redis-server --version | awk '{print $3}' | sed 's/v=//')" \
    '{url: $url, pid: 0, username: $user, password: $password, service: $service, description: $description, storageConnectionString: $storage}')
  log "scale-out: nginx on 127.0.0.1:$SO_PORT in front of nodes on ${NODE_PORTS[*]}"
fi

# ---- sizes and the hand-over to the load tool -------------------------------------------------------------------------
if [[ $QUICK == 1 ]]; then
  SIZES='{"blobMiB":64,"chunkMiB":16,"bigBlobMiB":256,"smallBlobs":200,"tags":2000,"repositories":300,"pageSize":100,
          "populateBudgetSeconds":60,"walkBudgetSeconds":10,"loadSeconds":3,"heads":50,"physicalSeconds":1,"diskMiB":128}'
else
  SIZES='{"blobMiB":512,"chunkMiB":16,"bigBlobMiB":4096,"smallBlobs":1000,"tags":100000,"repositories":10000,"pageSize":100,
          "populateBudgetSeconds":90,"walkBudgetSeconds":20,"loadSeconds":10,"heads":200,"physicalSeconds":3,"diskMiB":1024}'
fi
[[ -n "$POPULATE_BUDGET" ]] && SIZES=$(jq -c --argjson b "$POPULATE_BUDGET" '.populateBudgetSeconds = $b' <<<"$SIZES")
NOTES=("Berth started with ${BERTH_FLAGS[*]} (throttling off); otherwise default configuration (filesystem blobs, SQLite metadata).")
NOTES+=("distribution 2.8.2: filesystem storage, no auth (one row serves as the peer of both the anonymous and the bearer rows), in-memory blob descriptor cache, access log off.")
[[ $ANONYMOUS == on ]] && NOTES+=("Anonymous pull switched on with: $ANONYMOUS_HOW.")
[[ $QUICK == 1 ]] && NOTES+=("QUICK run: $RUNS run(s), 64 MiB blobs, 256 MiB big blob, 200 small blobs, 2,000 tags, 300 repositories, 3 s loads: a smoke test of the harness, not a measurement to judge the bars by.")
WRK_VERSION=$(wrk -v 2>&1 | head -1 | awk '{print $2}' || true)
jq -n \
  --argjson quick "$([[ $QUICK == 1 ]] && echo true || echo false)" \
  --argjson runs "$RUNS" \
  --arg scratch "$WORK" \
  --arg results "$ROOT/bench/results" \
  --arg docs "$([[ $UPDATE_DOCS == 1 ]] && echo "$ROOT/docs/performance.md" || echo "")" \
  --arg wrk "$(command -v wrk || true)" \
  --arg berthUrl "http://127.0.0.1:$BERTH_PORT" --argjson berthPid "$BERTH_PID" \
  --arg user "$BERTH_USER" --arg password "$BERTH_PASSWORD" --arg service "$BERTH_SERVICE" --arg anonymous "$ANONYMOUS" \
  --arg distUrl "http://127.0.0.1:$DIST_PORT" --argjson distPid "$DIST_PID" \
  --arg nginxUrl "http://127.0.0.1:$NGINX_PORT" --argjson nginxPid "$NGINX_PID" --arg nginxRoot "$WORK/nginx/html" \
  --argjson sizes "$SIZES" \
  --argjson scaleOut "$SCALE_OUT_JSON" \
  --arg berthVersion "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/')" \
  --arg distVersion "$(docker-registry --version 2>/dev/null | awk '{print $3}')" \
  --arg nginxVersion "$(nginx -v 2>&1 | sed 's/.*nginx\///')" \
  --arg wrkVersion "$WRK_VERSION" \
  --arg opensslVersion "$(openssl version | awk '{print $2}')" \
  --args '{
    quick: $quick, runs: $runs, scratch: $scratch, resultsDir: $results,
    docsPath: (if $docs == "" then null else $docs end), wrk: (if $wrk == "" then null else $wrk end),
    notes: $ARGS.positional,
    versions: {berth: $berthVersion, distribution: $distVersion, nginx: $nginxVersion, wrk: $wrkVersion, openssl: $opensslVersion},
    berth: {url: $berthUrl, pid: $berthPid, username: $user, password: $password, service: $service, anonymous: $anonymous},
    distribution: {url: $distUrl, pid: $distPid},
    nginx: {url: $nginxUrl, pid: $nginxPid, root: $nginxRoot},
    scaleOut: $scaleOut,
    sizes: $sizes
  }' "${NOTES[@]}" >"$WORK/config.json"
chmod 600 "$WORK/config.json"

log "measuring ($RUNS run(s)$([[ $QUICK == 1 ]] && echo ', quick'))"
dotnet "$BENCH_DLL" "$WORK/config.json"
}

main "$@"; exit  # on one line: bash never reads past it, even if this file changed meanwhile
