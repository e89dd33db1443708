#!/usr/bin/env bash
# Installs the benchmark's anchors from Debian: etcd 3.4 and ZooKeeper 3.8. Their packages may start
# services on the default ports; the harness uses its own ports and data dirs and never touches those.
set -euo pipefail
as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends etcd-server zookeeper
