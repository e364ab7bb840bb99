#!/usr/bin/env bash
# The storefront's browser tests: real headless Chromium (Debian's chromium + chromium-driver,
# pinned) driving the shop against the real services. `cargo test --workspace` lists them as
# ignored (a fresh machine has no browser); this script installs the browser and runs them.
# Screenshots of every step: target/browser-screenshots/<test>/ (keep them as CI artefacts).
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=../lib/chromium.sh
source .ci/lib/chromium.sh
install_chromium

cargo test --locked -p storefront --test web browser -- --ignored --test-threads=1
target_dir="${CARGO_TARGET_DIR:-target}"
echo "screenshots:"
find "$target_dir/browser-screenshots" -name '*.png' | sort
