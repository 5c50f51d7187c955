#!/usr/bin/env bash
# The one command that runs Berth's whole test suite on a fresh Debian 12 machine with the .NET SDK.
# It installs the real clients the end-to-end tests drive (skopeo, podman, umoci, containerd's ctr, azure-cli, nodejs/npm, and chromium
# with chromium-driver for the web page's browser tests), CNCF distribution (docker-registry, the upstream and source registry of the
# artifact cache and import tests) and the services the
# scale-out tests start on loopback (postgresql, redis-server, nginx, and Azurite from npm) when they are missing, then runs every test project in Berth.slnx. Extra arguments go to `dotnet test` (e.g. --filter ...).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# tool -> Debian package that provides it
declare -A package_for=(
  [skopeo]=skopeo
  [podman]=podman
  [umoci]=umoci
  [jq]=jq
  [pg_ctlcluster]=postgresql
  [redis-server]=redis-server
  [nginx]=nginx-light
  [ctr]=containerd
  [docker-registry]=docker-registry
  [az]=azure-cli
  [docker-registry]=docker-registry
  [node]=nodejs
  [npm]=npm
  [chromium]=chromium
  [chromedriver]=chromium-driver
)

# PostgreSQL's server binaries (initdb, pg_ctl) live in /usr/lib/postgresql/<version>/bin, off PATH; the tests that
# need a database start their own throw-away cluster from there.
have_postgres_server() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1; }

missing_packages=()
for tool in "${!package_for[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing_packages+=("${package_for[$tool]}")
  fi
done
if ! have_postgres_server && [[ " ${missing_packages[*]} " != *" postgresql "* ]]; then
  missing_packages+=(postgresql)
fi

if ((${#missing_packages[@]} > 0)); then
  echo "==> Installing missing Debian packages: ${missing_packages[*]}"
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo_cmd=(sudo)
    else
      echo "error: need root (or sudo) to install: ${missing_packages[*]}" >&2
      exit 1
    fi
  fi
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing_packages[@]}"
fi

still_missing=()
for tool in "${!package_for[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || still_missing+=("$tool")
done
have_postgres_server || still_missing+=("initdb (postgresql)")
if ((${#still_missing[@]} > 0)); then
  echo "error: still missing after install: ${still_missing[*]}" >&2
  exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is not on PATH" >&2
  exit 1
fi

echo "==> Tools: dotnet $(dotnet --version); $(skopeo --version); $(podman --version); $(umoci --version); $(chromedriver --version)"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Measurements the tests want shown even when they pass (e.g. the 2 GiB blob's server memory growth).
measurements="$(mktemp "${TMPDIR:-/tmp}/berth-measurements.XXXXXX")"
export BERTH_E2E_MEASUREMENTS="$measurements"

test_log="$(mktemp "${TMPDIR:-/tmp}/berth-test-log.XXXXXX")"
trap 'rm -f "$measurements" "$test_log"' EXIT

# npm packages the tests use (the Azure SDK for JavaScript, Azurite), each folder pinned by its package-lock.json;
# node_modules is never committed.
while IFS= read -r lock; do
  node_dir="$(dirname "$lock")"
  # Also when the lock changed since the last install (npm writes node_modules/.package-lock.json on each install).
  if [[ ! -d "$node_dir/node_modules" || "$lock" -nt "$node_dir/node_modules/.package-lock.json" ]]; then
    echo "==> npm ci in ${node_dir#"$repo_root"/}"
    (cd "$node_dir" && npm ci --no-audit --no-fund)
  fi
done < <(find "$repo_root/tests" -name package-lock.json -not -path '*/node_modules/*')

echo "==> dotnet test Berth.slnx"
status=0
dotnet test Berth.slnx --configuration Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$test_log" || status=$?

# One closing line over all test projects (VSTest prints a summary per project).
count() { awk -v key="$1" '$1 == key":" && $2 ~ /^[0-9]+$/ { n += $2 } END { print n + 0 }' "$test_log"; }
passed="$(count Passed)"
failed="$(count Failed)"
skipped="$(count Skipped)"

if [[ -s "$measurements" ]]; then
  echo "==> Measurements"
  cat "$measurements"
fi

# The failed tests again at the very end, with their messages and the top of their stacks, so that whoever reads only
# the tail of a long run sees what broke.
if ((failed > 0)); then
  echo "==> Failed tests"
  awk '
    /^  Failed [^ ]/ { showing = 1; stack = 0; print; next }
    /^  (Passed|Skipped) [^ ]/ || /^\[xUnit/ || /^(Test Run|Total tests:)/ { showing = 0 }
    showing && /^  Stack Trace:/ { stack = 1 }
    showing && stack && ++stack > 12 { next }
    showing { print }
  ' "$test_log"
fi

echo "Tests: $passed passed, $failed failed, $skipped skipped"
if ((status != 0)); then
  echo "==> FAILED: dotnet test exited with $status" >&2
elif ((passed == 0)); then
  echo "==> FAILED: no test ran" >&2
  status=1
else
  echo "==> All tests passed"
fi
exit "$status"
