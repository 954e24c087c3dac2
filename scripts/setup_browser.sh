#!/usr/bin/env bash
# Installs Debian's Chromium for the Playwright browser tests, unless it is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup_browser: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  exit 0  # the browser tests skip with this reason
fi
echo "setup_browser: installing Debian's chromium (for tests/test_ui_browser.py)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
