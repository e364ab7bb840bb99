#!/usr/bin/env bash
# Builds the Go programs microshop tests against (a Kubernetes control plane, KWOK, Jaeger v2) from
# the Go module proxy, and prints the directory holding the binaries.
#
#   scripts/go-tools.sh kubernetes|etcd|kwok|jaeger      # -> ~/.cache/microshop/go-tools/<set>-<key>/bin
#
# Each set is a small wrapper module under tools/go/<set>/ whose go.mod pins the program's version
# with a `tool` directive (and, where the program's own go.mod replaces modules, the same replaces,
# which only a main module can apply) and whose go.sum pins every dependency. tools/go/<set>/build.env
# holds the version, build tags and version stamps. Binaries are cached by a hash of those three files,
# so a later run with the same pins builds nothing; change a pin and the next run builds anew.
# Needs Go (1.26, GOTOOLCHAIN=local: no toolchain download) and the module proxy.
set -euo pipefail

set_name="${1:?usage: scripts/go-tools.sh kubernetes|etcd|kwok|jaeger}"
root="$(cd "$(dirname "$0")/.." && pwd)"
module="$root/tools/go/$set_name"
[ -f "$module/go.mod" ] || { echo "go-tools: no wrapper module tools/go/$set_name" >&2; exit 2; }
command -v go >/dev/null 2>&1 || { echo "go-tools: Go is not installed (the polyglot machine has it)" >&2; exit 2; }

VERSION="" TAGS="" STAMP_PACKAGES="" STAMP="" RENAME=""
# shellcheck source=/dev/null
source "$module/build.env"
key="$(cat "$module/go.mod" "$module/go.sum" "$module/build.env" | sha256sum | cut -c1-12)"
cache="${MICROSHOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/microshop}/go-tools/$set_name-$VERSION-$key"

if [ ! -f "$cache/.complete" ]; then
  ldflags="-s -w"
  for package in $STAMP_PACKAGES; do
    for pair in $STAMP; do ldflags="$ldflags -X $package.$pair"; done
  done
  tmp="$cache.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/bin"
  echo "go-tools: building $set_name $VERSION (cold builds take minutes; cached in $cache)" >&2
  start=$(date +%s)
  (cd "$module" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
    go build -trimpath -tags "$TAGS" -ldflags "$ldflags" -o "$tmp/bin/" tool) >&2
  for pair in $RENAME; do
    [ -e "$tmp/bin/${pair%%:*}" ] && mv "$tmp/bin/${pair%%:*}" "$tmp/bin/${pair##*:}"
  done
  echo "go-tools: built $set_name in $(( $(date +%s) - start )) s: $(find "$tmp/bin" -type f -printf '%f ')" >&2
  rm -rf "$cache" && mv "$tmp" "$cache" && touch "$cache/.complete"
fi
echo "$cache/bin"
