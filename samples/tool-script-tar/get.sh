#!/bin/sh
# Stands for an install script that downloads a release: `cat` for `curl -fsSL URL` (the build has no network).
set -e
mkdir -p /data/tool
cat /tmp/pkg.tgz | tar -xz -C /data/tool
