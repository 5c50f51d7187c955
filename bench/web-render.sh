#!/usr/bin/env bash
# Server render time of the web page (registry, repository with 100,000 tags, manifest): median and p95, on this
# machine. Builds the measurement in Release, runs it (about 2 minutes, most of it seeding the tags) and writes
# bench/results/<timestamp>-<hostname>-web.md and .json. See docs/web.md.
#
#   bench/web-render.sh [iterations=300]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ITERATIONS="${1:-300}"
[[ "$ITERATIONS" =~ ^[1-9][0-9]*$ ]] || { echo "web-render: iterations must be a positive number" >&2; exit 2; }
dotnet build "$ROOT/bench/Berth.Bench.WebRender" -c Release -v quiet -nologo >/dev/null
dotnet "$ROOT/bench/Berth.Bench.WebRender/bin/Release/net10.0/Berth.Bench.WebRender.dll" "$ITERATIONS" "$ROOT/bench/results"
