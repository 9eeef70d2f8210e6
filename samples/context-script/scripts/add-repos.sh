#!/bin/sh
# Clone the service's repositories and unpack its assets under /data/repos.
set -eu

mkdir -p /data/repos
cd /data/repos
git clone https://example.com/acme/app.git
git clone https://example.com/acme/lib.git

cd app
git remote add fork https://example.com/someone/app.git
cd /build

# assets next to the checkouts
mkdir /data/repos/assets
tar -xf assets.tar -C /data/repos/assets
ln -s /data/repos/app/src /data/repos/src
git config --global user.name dummy
