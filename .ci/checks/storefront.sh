#!/usr/bin/env bash
# The storefront's browser tests: real headless Chromium (Debian's chromium + chromium-driver,
# pinned) driving the shop against the real services. `cargo test --workspace` lists them as
# ignored (a fresh machine has no browser); this script installs the browser and runs them.
# Screenshots of every step: target/browser-screenshots/<test>/ (keep them as CI artefacts).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Debian bookworm-security. When a newer security update replaces this version on the mirror,
# bump it here (apt-cache policy chromium shows the candidate).
CHROMIUM_VERSION="${CHROMIUM_VERSION:-156.0.8078.108-1~deb12u1}"

installed="$(dpkg-query -W -f='${Version}' chromium-driver 2>/dev/null || true)"
if [ "$installed" != "$CHROMIUM_VERSION" ] || ! command -v chromium >/dev/null; then
  echo "installing chromium and chromium-driver $CHROMIUM_VERSION"
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "chromium=$CHROMIUM_VERSION" "chromium-common=$CHROMIUM_VERSION" "chromium-driver=$CHROMIUM_VERSION" >/dev/null; then
    # The security mirror keeps only the newest build: once it moves on, the pin cannot be
    # installed any more. Take the mirror's current build rather than fail, and say so loudly.
    echo "WARNING: chromium $CHROMIUM_VERSION is no longer on the mirror; installing $(apt-cache policy chromium | awk '/Candidate/ {print $2}') (update CHROMIUM_VERSION)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-common chromium-driver >/dev/null
  fi
fi
chromium --version
chromedriver --version

cargo test --locked -p storefront --test web browser -- --ignored --test-threads=1
target_dir="${CARGO_TARGET_DIR:-target}"
echo "screenshots:"
find "$target_dir/browser-screenshots" -name '*.png' | sort
