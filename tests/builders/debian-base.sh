#!/usr/bin/env bash
# debian-base.sh [OUT_DIR]: a Debian bookworm base rootfs for dockerfix's build tests, as OUT_DIR/rootfs.tar.
#
# Why: the busybox base (refactor/baseimage.py) is small and fast but is not what real Dockerfiles run on. This one
# is `debootstrap --variant=minbase bookworm` (bash, GNU coreutils and findutils, shadow's useradd/groupadd, dpkg,
# apt) plus the same kind of deterministic stub tools, so that a Dockerfile written for a Debian image builds here
# without network, on buildah and on BuildKit.
#
# OUT_DIR defaults to the cache the tests use: ${XDG_CACHE_HOME:-~/.cache}/dockerfix/debian-bookworm.
# It is a cache: when OUT_DIR/rootfs.tar is complete (its stamp names the recipe, the sha256 of this script and of
# the stub tools it writes, and the tar's size) the script returns at once; a changed script or changed stubs
# (refactor/images/stubs.py, pystubs.py) rebuild it. The tar and its stamp are written atomically (temporary name,
# then rename) under a lock, so concurrent test runs share one build. About 40 s and 200 MB.
#
# Use it as a base image (owners are numeric in the tar and kept by both importers):
#   docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' --change 'CMD ["/bin/bash"]' \
#     OUT_DIR/rootfs.tar localhost/dockerfix-debian
#   buildah from scratch; buildah add CTR OUT_DIR/rootfs.tar /; buildah config --env PATH=... --cmd /bin/bash CTR;
#   buildah commit CTR localhost/dockerfix-debian       (`buildah add` keeps owners; `buildah copy` of a dir does not)
#
# What is in it besides minbase:
#   - empty /etc/hostname, /etc/hosts, /etc/resolv.conf (debootstrap copies the host's; builders bind-mount their
#     own, and an empty file in the base keeps the first RUN from adding them to its layer), an empty /dev;
#   - apt's lists and caches removed (as in Docker's official debian images);
#   - stubs in /usr/local/bin: pip (pip3), python3 (python), git, poetry, uv, npm. The account tools are Debian's
#     real ones (minbase has shadow's useradd/groupadd and Debian's adduser/addgroup), so busybox-style
#     `adduser -D` builds on the busybox base only, as it does on real Alpine vs Debian images.
#     The stubs come from the same source as the busybox base's (refactor/images/stubs.py, written here by
#     `python3 -m dockerfix.refactor.images.stubs --strict ROOTFS`: same paths, same files), so the same Dockerfiles
#     build on both bases. Strict mode adds: pip writes a 200 kB <name>/_native.so per registry requirement (so a
#     duplicated install shows in the layer sizes), pip refuses a local directory without
#     setup.py/pyproject.toml/setup.cfg (as real pip does), and every stub fails loudly (message on stderr, exit 3)
#     on an option or subcommand it does not model, instead of ignoring it.
#   The users and groups the busybox base has (root, daemon, www-data, nobody; groups users, nogroup) are in Debian's
#   base-passwd already, with the same ids.
#
# Environment:
#   DOCKERFIX_DEBIAN_MIRROR  Debian mirror (default: the mirror apt already uses for bookworm)
#   DOCKERFIX_PYTHON         a python that imports dockerfix from this checkout (default python3; the tests pass their
#                            own interpreter)
set -euo pipefail

OUT=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/dockerfix/debian-bookworm}
[ $# -le 1 ] || { echo "usage: debian-base.sh [OUT_DIR]" >&2; exit 2; }
SUITE=bookworm
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "debian-base.sh: $*" >&2; exit 1; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/mirror.sh"  # apt_mirror

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TAR=$OUT/rootfs.tar
STAMP=$OUT/rootfs.tar.ok

# The stubs are written by dockerfix itself; it must be this checkout's dockerfix, or the tar would hold another
# checkout's stubs under this one's recipe.
PY=${DOCKERFIX_PYTHON:-python3}
read -r STUBS_SOURCE STUBS_DIGEST < <("$PY" -c 'import os, dockerfix.refactor.images.stubs as m
print(os.path.realpath(m.__file__), m.tools_digest(strict=True))') \
  || die "$PY cannot import dockerfix (pip install -e . in ${HERE%/tests/builders}, or set DOCKERFIX_PYTHON)"
[ "$STUBS_SOURCE" = "$(realpath "$HERE/../../refactor/images/stubs.py")" ] \
  || die "$PY imports dockerfix from $STUBS_SOURCE, not from this checkout (set DOCKERFIX_PYTHON)"
# The recipe: this script and the stubs it writes (the mirror and the day's Debian packages are not in it).
SCRIPT_SHA=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
recipe() { printf '%s %s\n' "$SCRIPT_SHA" "$1" | sha256sum | cut -d' ' -f1; }
RECIPE=$(recipe "$STUBS_DIGEST")

complete() {
  [ -f "$TAR" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "recipe $RECIPE size $(stat -c %s "$TAR")" ]
}
complete && { echo "$TAR"; exit 0; }

# One build at a time per OUT_DIR; whoever waited finds the tar done.
exec 9>"$OUT/.lock"
flock 9
complete && { echo "$TAR"; exit 0; }

[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
[ -f "$KEYRING" ] || die "no $KEYRING (package debian-archive-keyring)"

ROOT=$OUT/build.$$
cleanup() {
  local m
  # debootstrap mounts /proc and /sys in the target while it works; never leave a mount behind.
  for m in $(awk -v d="$ROOT/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  rm -rf --one-file-system "$ROOT" "$TAR.tmp.$$" "$STAMP.tmp.$$"
}
trap cleanup EXIT
rm -rf --one-file-system "$OUT"/build.* "$OUT"/rootfs.tar.tmp.* 2>/dev/null || true

MIRROR=$(apt_mirror "${DOCKERFIX_DEBIAN_MIRROR:-}")
start=$SECONDS
echo "debian-base.sh: debootstrap --variant=minbase $SUITE from $MIRROR into $ROOT" >&2
# --variant=minbase: only the Essential and Priority: required packages plus apt (what Docker's debian images are).
# --keyring: verify the Release file against the Debian archive keys (no --no-check-gpg).
debootstrap --variant=minbase --keyring="$KEYRING" "$SUITE" "$ROOT" "$MIRROR" > "$OUT/debootstrap.log" 2>&1 \
  || { tail -n 30 "$OUT/debootstrap.log" >&2; die "debootstrap failed (log: $OUT/debootstrap.log)"; }
echo "debian-base.sh: debootstrap took $((SECONDS - start)) s" >&2

# Files the builders provide themselves: empty in the base.
for f in etc/hostname etc/hosts etc/resolv.conf; do rm -f "$ROOT/$f"; : > "$ROOT/$f"; chmod 644 "$ROOT/$f"; done
# Device nodes: the runtime makes /dev; proc, sys, run, tmp must exist, empty.
rm -rf "${ROOT:?}"/dev/* "${ROOT:?}"/proc/* "${ROOT:?}"/sys/* 2>/dev/null || true
mkdir -p "$ROOT/dev" "$ROOT/proc" "$ROOT/sys" "$ROOT/run" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"
# apt's indexes and caches, logs of the install: not wanted in a base image.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/var/log/dpkg.log "$ROOT"/var/log/bootstrap.log "$ROOT"/var/log/alternatives.log "$ROOT"/var/log/apt/* \
  "$ROOT"/var/cache/ldconfig/aux-cache
mkdir -p "$ROOT/var/lib/apt/lists/partial"
# The test users and groups of the busybox base, with the same ids: Debian's base-passwd already has them.
for u in root:0 daemon:1 www-data:33 nobody:65534; do
  grep -q "^${u%%:*}:x:${u#*:}:" "$ROOT/etc/passwd" || die "base-passwd lacks user $u"
done
for g in root:0 daemon:1 www-data:33 users:100 nogroup:65534; do
  grep -q "^${g%%:*}:x:${g#*:}:" "$ROOT/etc/group" || die "base-passwd lacks group $g"
done

# The stub tools, strict, from the source the busybox base's come from; the recipe is that of what was written, should
# the source have changed since the start. A path that minbase has already is an error, not replaced.
written=$("$PY" -m dockerfix.refactor.images.stubs --strict "$ROOT") && [ -n "$written" ] \
  || die "writing the stub tools into $ROOT failed"
RECIPE=$(recipe "$written")

# --numeric-owner: owners as numbers (the importers map names through the host's passwd otherwise);
# --sort=name: the same tree gives the same member order. One pass, then rename: a reader never sees half a tar.
tar --numeric-owner --sort=name -C "$ROOT" -cf "$TAR.tmp.$$" .
mv "$TAR.tmp.$$" "$TAR"
echo "recipe $RECIPE size $(stat -c %s "$TAR")" > "$STAMP.tmp.$$"
mv "$STAMP.tmp.$$" "$STAMP"
echo "debian-base.sh: $TAR ($(($(stat -c %s "$TAR") / 1000000)) MB) in $((SECONDS - start)) s" >&2
echo "$TAR"
