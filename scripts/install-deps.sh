#!/bin/sh
# Install the Debian packages needed to build and test, if any is missing.
# Idempotent; prints nothing when everything is already there.
set -eu

PACKAGES="
build-essential
pkg-config
meson
ninja-build
python3
libglib2.0-dev
libjansson-dev
libcmocka-dev
libfdt-dev
libunicorn-dev
device-tree-compiler
systemtap-sdt-dev
clang
libclang-rt-14-dev
socat
"

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing="$missing $pkg"
    fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
    $SUDO apt-get install -y --no-install-recommends $missing
