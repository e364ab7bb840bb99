# Sourced by the browser checks (storefront.sh, jaeger.sh): installs Debian's chromium and
# chromium-driver at one pinned version, so every check drives the same browser.

# Debian bookworm-security. When a newer security update replaces this version on the mirror,
# bump it here (apt-cache policy chromium shows the candidate).
CHROMIUM_VERSION="${CHROMIUM_VERSION:-156.0.8078.114-1~deb12u1}"

install_chromium() {
  local installed
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
}
