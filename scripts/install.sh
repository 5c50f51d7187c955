#!/usr/bin/env bash
# Installs a `berth` command for this user: publishes the CLI and server (framework-dependent; the .NET runtime that
# builds it runs it) into $PREFIX/lib/berth and puts a `berth` launcher in $PREFIX/bin. PREFIX defaults to ~/.local,
# whose bin folder Debian puts on PATH for login shells. Run it again after pulling new commits.
set -euo pipefail

repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
prefix="${PREFIX:-$HOME/.local}"
lib="$prefix/lib/berth"
bin="$prefix/bin"

echo "==> Publishing berth into $lib"
rm -rf "$lib.new"
dotnet publish "$repo_root/src/Berth.Cli" -c Release -o "$lib.new" --nologo -v quiet
rm -rf "$lib"
mv "$lib.new" "$lib"

mkdir -p "$bin"
cat > "$bin/berth.new" <<LAUNCHER
#!/bin/sh
exec dotnet "$lib/berth.dll" "\$@"
LAUNCHER
chmod 0755 "$bin/berth.new"
mv "$bin/berth.new" "$bin/berth"

echo "==> Installed $bin/berth"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "    $bin is not on PATH here: export PATH=\"$bin:\$PATH\" (add it to ~/.profile to keep it)" ;;
esac
