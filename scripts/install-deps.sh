#!/usr/bin/env bash
# Installs what Eddy needs and this machine lacks; does nothing when everything is there.
# Debian packages: librocksdb-dev (RocksDB 7.8, the storage engine) and pkg-config (SwiftPM finds RocksDB
# through it). python3 is used by the decimal reference tests.
set -euo pipefail

missing=()
pkg-config --exists rocksdb 2>/dev/null || missing+=(librocksdb-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
