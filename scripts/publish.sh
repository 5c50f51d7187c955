#!/usr/bin/env bash
# Publishes Berth as one self-contained, single-file `berth` executable: the server (`berth serve`), the `acr` command
# tree, `gc` and `fsck`, with the .NET runtime and SQLite's native library inside. The machine that runs it needs no
# .NET installed.
#
#   scripts/publish.sh                          linux-x64 into artifacts/publish/linux-x64/berth
#   scripts/publish.sh --rid linux-arm64        cross-built for 64-bit ARM (same SDK, no other tool needed)
#   scripts/publish.sh --output <folder>        somewhere else
#   scripts/publish.sh --aot                    Native AOT instead (needs clang and zlib1g-dev; see docs/binary.md)
#
# Prints the path of the executable on its last line.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rid=linux-x64
output=""
aot=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rid) rid="$2"; shift ;;
    --rid=*) rid="${1#--rid=}" ;;
    --output) output="$2"; shift ;;
    --output=*) output="${1#--output=}" ;;
    --aot) aot=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "publish: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$rid" in
  linux-x64|linux-arm64|linux-musl-x64) ;;
  *) echo "publish: --rid must be linux-x64, linux-arm64 or linux-musl-x64, not '$rid'" >&2; exit 2 ;;
esac
[[ -n "$output" ]] || output="$repo_root/artifacts/publish/$rid$([[ $aot == 1 ]] && echo -aot || true)"

properties=(
  -p:SelfContained=true
  # No .pdb files beside the executable: stack traces keep method names, and one file is the point.
  -p:DebugType=none
)
if [[ $aot == 1 ]]; then
  properties+=(-p:PublishAot=true)
else
  properties+=(
    -p:PublishSingleFile=true
    # SQLite's native library (libe_sqlite3.so) goes inside too; the runtime extracts it once on first start, under
    # $DOTNET_BUNDLE_EXTRACT_BASE_DIR (default ~/.net), and reuses it after.
    -p:IncludeNativeLibrariesForSelfExtract=true
  )
fi

# A fresh folder: a file left from an earlier publish (an old .pdb or native library) must not pass for part of this one.
rm -rf "$output"
# Its own build folders (artifacts/build/<rid>), so publishing never rebuilds the framework-dependent build in the
# projects' bin/ and obj/ folders that `dotnet build`, the tests and `dotnet run` use.
dotnet publish "$repo_root/src/Berth.Cli/Berth.Cli.csproj" -c Release -r "$rid" "${properties[@]}" -o "$output" \
  --artifacts-path "$repo_root/artifacts/build/$rid$([[ $aot == 1 ]] && echo -aot || true)" --nologo -v quiet >&2
echo "$output/berth"
