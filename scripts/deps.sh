#!/bin/sh
# scripts/deps.sh -- install the Debian packages Tandem needs to build, run or test, when missing.
# Usage: scripts/deps.sh build|test|bench
set -eu
build="gcc make pkg-config python3 libknot-dev liburcu-dev libevent-dev libjansson-dev libyaml-dev \
libsqlite3-dev libssl-dev"
test="$build libcmocka-dev python3 python3-pytest python3-pytest-xdist python3-dnspython knot \
knot-dnsutils bind9 bind9-dnsutils bind9-utils nsd pdns-server pdns-backend-bind pdns-backend-sqlite3 unbound unbound-host \
clang libfuzzer-14-dev python3-certbot-dns-rfc2136 prometheus chromium nodejs"
bench="$test dnsperf"
case "${1:-build}" in
  build) want=$build ;;
  test) want=$test ;;
  bench) want=$bench ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The console's browser tests run playwright-core under node; Debian's nodejs leaves npm to its own
# package, other builds of nodejs (NodeSource) bring it along.
[ "${1:-build}" != build ] && ! command -v npm >/dev/null 2>&1 && missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# Debian's packages for the peers start their services on install; the tests start their own instances.
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
