#!/bin/sh
# Installs every Debian package the project needs to build, run and test.
# Idempotent: when everything is installed already it does nothing.
set -eu

PACKAGES="g++ cmake make pkg-config ccache git curl python3 clang-format \
  libcaf-dev libyaml-cpp-dev nlohmann-json3-dev libcpprest-dev libboost-dev \
  libsoci-dev libsqlite3-dev libpq-dev postgresql doctest-dev libbenchmark-dev duktape-dev libssh-dev openssh-server \
  python3-mistralclient python3-tempest mistral-tempest-plugin iproute2"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends $missing
