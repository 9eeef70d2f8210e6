#!/usr/bin/env bash
# debian-base.sh [OUT_DIR]: a Debian bookworm base rootfs for dockerfix's build tests, as OUT_DIR/rootfs.tar.
#
# Why: the busybox base (refactor/baseimage.py) is small and fast but is not what real Dockerfiles run on. This one
# is `debootstrap --variant=minbase bookworm` (bash, GNU coreutils and findutils, shadow's useradd/groupadd, dpkg,
# apt) plus the same kind of deterministic stub tools, so that a Dockerfile written for a Debian image builds here
# without network, on buildah and on BuildKit.
#
# OUT_DIR defaults to the cache the tests use: ${XDG_CACHE_HOME:-~/.cache}/dockerfix/debian-bookworm.
# It is a cache: when OUT_DIR/rootfs.tar is complete (its stamp names this script's sha256 and the tar's size) the
# script returns at once; a changed script (new stubs) rebuilds it. The tar and its stamp are written atomically
# (temporary name, then rename) under a lock, so concurrent test runs share one build. About 40 s and 200 MB.
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
#     The stubs follow the busybox base's stubs (same paths, same files) so the same Dockerfiles build on both bases,
#     and add: pip writes a 200 kB <name>/_native.so per registry requirement (so a duplicated install shows in the
#     layer sizes), pip refuses a local directory without setup.py/pyproject.toml/setup.cfg (as real pip does), and
#     every stub fails loudly (message on stderr, exit 3) on an option or subcommand it does not model, instead of
#     ignoring it.
#   The users and groups the busybox base has (root, daemon, www-data, nobody; groups users, nogroup) are in Debian's
#   base-passwd already, with the same ids.
#
# Environment: DOCKERFIX_DEBIAN_MIRROR (default: the mirror apt already uses for bookworm).
set -euo pipefail

OUT=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/dockerfix/debian-bookworm}
[ $# -le 1 ] || { echo "usage: debian-base.sh [OUT_DIR]" >&2; exit 2; }
SUITE=bookworm
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "debian-base.sh: $*" >&2; exit 1; }

apt_mirror() {
  if [ -n "${DOCKERFIX_DEBIAN_MIRROR:-}" ]; then echo "$DOCKERFIX_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
      /^[[:space:]]*$/ { if (u != "" && s ~ /(^| )bookworm( |$)/) { print u; exit } u = s = ""; next }
      /^URIs:/ { u = $2 } /^Suites:/ { s = $0; sub(/^Suites:[[:space:]]*/, "", s) }
      END { if (u != "" && s ~ /(^| )bookworm( |$)/) print u }' | head -n 1)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
                             if ($(i + 1) == "bookworm") { print $i; exit } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  echo "${uri%/}"
}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TAR=$OUT/rootfs.tar
STAMP=$OUT/rootfs.tar.ok
RECIPE=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)

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

MIRROR=$(apt_mirror)
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

stub() {  # path-in-rootfs; the script on stdin
  [ ! -e "$ROOT/$1" ] || die "$1 exists in the minbase rootfs: not replacing it with a stub"
  mkdir -p "$(dirname "$ROOT/$1")"
  cat > "$ROOT/$1"
  chmod 755 "$ROOT/$1"
}
link() {  # path-in-rootfs target
  [ ! -e "$ROOT/$1" ] || die "$1 exists in the minbase rootfs: not replacing it with a stub"
  ln -s "$2" "$ROOT/$1"
}

stub usr/local/bin/git <<'STUB'
#!/bin/sh
# dockerfix stub for git: `git clone URL [DIR]` writes a fixed small tree; checkout/fetch/config and the like do
# nothing; anything else fails with exit 3.
unsupported() { echo "git stub: unsupported $*" >&2; exit 3; }
while [ $# -gt 0 ]; do
  case "$1" in
    -C) cd "$2" || exit 128; shift 2 ;;
    -c) shift 2 ;;
    --no-pager|--git-dir=*|--work-tree=*) shift ;;
    -*) unsupported "option $1" ;;
    *) break ;;
  esac
done
cmd=$1
[ $# -gt 0 ] && shift
case "$cmd" in
  clone)
    url= dir= branch=
    while [ $# -gt 0 ]; do
      arg=$1; shift
      case "$arg" in
        -b|--branch) branch=$1; shift ;;
        --branch=*) branch=${arg#*=} ;;
        --depth|-o|--origin|-c|--config|--reference|--separate-git-dir|-j|--jobs|--filter|-u|--upload-pack|--template|--shallow-since|--shallow-exclude) shift ;;
        --depth=*|--origin=*|--config=*|--reference=*|--separate-git-dir=*|--jobs=*|--filter=*|--template=*|--shallow-since=*|--shallow-exclude=*|--recurse-submodules=*) ;;
        -q|--quiet|-v|--verbose|--progress|--single-branch|--no-single-branch|--no-tags|--recursive|--recurse-submodules|--shallow-submodules|--no-shallow-submodules|--remote-submodules) ;;
        -*) unsupported "git clone option $arg" ;;
        *) if [ -z "$url" ]; then url=$arg; elif [ -z "$dir" ]; then dir=$arg; else unsupported "git clone argument $arg"; fi ;;
      esac
    done
    if [ -z "$url" ]; then echo "usage: git clone URL [DIR]" >&2; exit 129; fi
    name=${url%/}; name=${name##*/}; name=${name##*:}; name=${name%.git}
    [ -n "$dir" ] || dir=$name
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
      echo "fatal: destination path '$dir' already exists and is not an empty directory." >&2; exit 128
    fi
    mkdir -p "$dir/.git" "$dir/src" || exit 128
    printf 'ref: refs/heads/%s\n' "${branch:-main}" > "$dir/.git/HEAD"
    printf '# %s\n\nStub clone of %s (branch %s)\n' "$name" "$url" "${branch:-main}" > "$dir/README"
    printf 'print("hello from %s")\n' "$name" > "$dir/src/main.py"
    ;;
  rev-parse) echo 0000000000000000000000000000000000000000 ;;
  version|--version) echo "git version 2.39.2 (dockerfix stub)" ;;
  checkout|switch|fetch|pull|config|submodule|init|add|commit|reset|remote|tag|log|status) ;;
  *) unsupported "command: $cmd" ;;
esac
STUB

stub usr/local/bin/pip <<'STUB'
#!/bin/sh
# dockerfix stub for pip: `pip install` writes one deterministic module (and a 200 kB _native.so) per requirement,
# follows -r includes, installs local projects by the sha256 of their files, and logs the call. Options it does not
# model fail with exit 3. The prefix is the venv this pip lives in (found from $0, or handed over by
# `python -m pip`), else /usr/local.
log=/usr/local/lib/python3/pip.log
prefix=$DOCKERFIX_PY_PREFIX
if [ -z "$prefix" ]; then
  here=$(dirname "$0")
  if [ -f "$here/../pyvenv.cfg" ]; then prefix=$(cd "$here/.." && pwd); else prefix=/usr/local; fi
fi
unsupported() { echo "pip stub: unsupported $*" >&2; exit 3; }
items=
add() { items="$items$1 $2
"; }
normname() { printf '%s' "$1" | sed 's/^\([A-Za-z0-9._-]*\).*/\1/' | tr 'A-Z.-' 'a-z__'; }
read_reqs() {
  local file=$1 dir line ref
  if [ ! -f "$file" ]; then echo "ERROR: Could not open requirements file: $file" >&2; exit 1; fi
  dir=$(dirname "$file")
  while IFS= read -r line || [ -n "$line" ]; do
    line=$(printf '%s' "${line%%#*}" | tr -d ' \t\r')
    case "$line" in
      '') ;;
      -r*|--requirement*)
        ref=${line#--requirement}; ref=${ref#-r}; ref=${ref#=}
        case "$ref" in /*) ;; *) ref=$dir/$ref ;; esac
        read_reqs "$ref" ;;
      -e*|--editable*) ref=${line#--editable}; ref=${ref#-e}; add E "${ref#=}" ;;
      -i*|--index-url*|--extra-index-url*|-f*|--find-links*|--trusted-host*|--no-binary*|--only-binary*|--prefer-binary|--pre|-c*|--constraint*|--no-index|--require-hashes) ;;
      -*) unsupported "option $line in $file" ;;
      *--hash=*) add R "${line%%--hash=*}" ;;
      .*|/*) add L "$line" ;;
      *) add R "$line" ;;
    esac
  done < "$file"
}
project_name() {
  local n=
  [ -f "$1/pyproject.toml" ] || [ -f "$1/setup.py" ] || [ -f "$1/setup.cfg" ] || {
    echo "ERROR: Directory '$2' is not installable. Neither 'setup.py' nor 'pyproject.toml' found." >&2; exit 1; }
  [ -f "$1/pyproject.toml" ] && n=$(sed -n 's/^name *= *["'"'"']\([^"'"'"']*\).*/\1/p' "$1/pyproject.toml" | head -n 1)
  [ -z "$n" ] && [ -f "$1/setup.cfg" ] && n=$(sed -n 's/^name *= *\([^ ]*\).*/\1/p' "$1/setup.cfg" | head -n 1)
  [ -n "$n" ] || n=${1##*/}
  normname "$n"
}

cmd=$1
[ $# -gt 0 ] && shift
case "$cmd" in
  install) ;;
  --version|-V) echo "pip 23.0.1 from $prefix/lib/python3/site-packages/pip (python 3.11) (dockerfix stub)"; exit 0 ;;
  *) unsupported "command: $cmd" ;;
esac

site=$prefix/lib/python3/site-packages
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    -r|--requirement) read_reqs "$1"; shift ;;
    --requirement=*) read_reqs "${arg#*=}" ;;
    -r*) read_reqs "${arg#-r}" ;;
    -e|--editable) add E "$1"; shift ;;
    --editable=*) add E "${arg#*=}" ;;
    -t|--target) site=$1; shift ;;
    --target=*) site=${arg#*=} ;;
    --prefix) site=$1/lib/python3/site-packages; shift ;;
    --prefix=*) site=${arg#*=}/lib/python3/site-packages ;;
    --user) site=$HOME/.local/lib/python3/site-packages ;;
    -c|--constraint|-i|--index-url|--extra-index-url|-f|--find-links|--only-binary|--no-binary|--progress-bar|--cache-dir|--root-user-action|--platform|--python-version|--implementation|--abi|--src|--log|--timeout|--retries|--trusted-host|--upgrade-strategy|--global-option|--config-settings|-C|--root|--report) shift ;;
    --constraint=*|--index-url=*|--extra-index-url=*|--find-links=*|--only-binary=*|--no-binary=*|--progress-bar=*|--cache-dir=*|--root-user-action=*|--platform=*|--python-version=*|--implementation=*|--abi=*|--src=*|--log=*|--timeout=*|--retries=*|--trusted-host=*|--upgrade-strategy=*|--global-option=*|--config-settings=*|--root=*|--report=*) ;;
    --no-cache-dir|--no-deps|-q|--quiet|-qq|-qqq|-v|--verbose|-U|--upgrade|--force-reinstall|-I|--ignore-installed|--no-compile|--compile|--pre|--no-build-isolation|--disable-pip-version-check|--no-warn-script-location|--no-warn-conflicts|--no-input|--break-system-packages|--no-index|--prefer-binary|--require-hashes|--use-pep517|--no-use-pep517|--isolated|--exists-action=*) ;;
    -*) unsupported "option $arg" ;;
    .|..|./*|../*|/*) add L "$arg" ;;
    *) if [ -e "$arg" ]; then add L "$arg"; else add R "$arg"; fi ;;
  esac
done
if [ -z "$items" ]; then echo "ERROR: You must give at least one requirement to install" >&2; exit 1; fi

mkdir -p "$site" "${log%/*}" || exit 1
logline=install
while read -r kind value; do
  [ -n "$kind" ] || continue
  case "$kind" in
    R)
      spec=$(printf '%s' "$value" | tr -d ' ')
      name=$(normname "$spec")
      mkdir -p "$site/$name" || exit 1
      printf '# dockerfix stub of %s\n' "$spec" > "$site/$name/__init__.py"
      head -c 200000 /dev/zero > "$site/$name/_native.so"
      logline="$logline $spec" ;;
    L|E)
      if [ -d "$value" ]; then
        src=$(cd "$value" && pwd)
        name=$(project_name "$src" "$value") || exit 1
      elif [ -f "$value" ]; then
        src=$(cd "$(dirname "$value")" && pwd)/${value##*/}
        name=$(normname "${value##*/}")
        name=${name%%-*}
      else
        echo "ERROR: Invalid requirement: '$value' (no such file or directory)" >&2; exit 1
      fi
      if [ "$kind" = E ]; then
        printf '%s\n' "$src" > "$site/__editable__.$name.pth"
        logline="$logline -e $value"
      else
        mkdir -p "$site/$name" || exit 1
        printf '# dockerfix stub of local project %s\n' "$name" > "$site/$name/__init__.py"
        if [ -d "$src" ]; then
          (cd "$src" && find . -type f ! -path './.git/*' | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done) > "$site/$name/SOURCES"
        else
          sha256sum "$src" | sed 's/ .*//' > "$site/$name/SOURCES"
        fi
        logline="$logline $value"
      fi ;;
  esac
done <<EOF
$items
EOF
printf '%s\n' "$logline" >> "$log"
STUB
link usr/local/bin/pip3 pip

stub usr/local/bin/python3 <<'STUB'
#!/bin/sh
# dockerfix stub for python: supports -m venv, -m pip, -m compileall and --version; anything else fails with exit 3.
here=$(dirname "$0")
if [ -f "$here/../pyvenv.cfg" ]; then prefix=$(cd "$here/.." && pwd); else prefix=/usr/local; fi
case "$1" in
  -V|--version) echo "Python 3.11.2"; exit 0 ;;
  -m) ;;
  *) echo "python stub: only -m venv, -m pip, -m compileall and --version are supported, not: $*" >&2; exit 3 ;;
esac
module=$2
shift 2
case "$module" in
  pip) DOCKERFIX_PY_PREFIX=$prefix exec /usr/local/bin/pip "$@" ;;
  compileall) exit 0 ;;
  venv) ;;
  *) echo "python stub: module $module is not supported" >&2; exit 3 ;;
esac
dir= withpip=1
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --without-pip) withpip= ;;
    --prompt) shift ;;
    --copies|--symlinks|--clear|--upgrade-deps|--system-site-packages) ;;
    -*) echo "python stub: venv option $arg is not supported" >&2; exit 3 ;;
    *) dir=$arg ;;
  esac
done
if [ -z "$dir" ]; then echo "usage: python -m venv DIR" >&2; exit 2; fi
mkdir -p "$dir/bin" "$dir/include" "$dir/lib/python3/site-packages" || exit 1
dir=$(cd "$dir" && pwd)
printf 'home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n' > "$dir/pyvenv.cfg"
ln -sf /usr/local/bin/python3 "$dir/bin/python3"
ln -sf python3 "$dir/bin/python"
if [ -n "$withpip" ]; then
  ln -sf /usr/local/bin/pip "$dir/bin/pip"
  ln -sf /usr/local/bin/pip "$dir/bin/pip3"
fi
cat > "$dir/bin/activate" <<EOF
VIRTUAL_ENV='$dir'
export VIRTUAL_ENV
PATH="\$VIRTUAL_ENV/bin:\$PATH"
export PATH
EOF
STUB
link usr/local/bin/python python3

stub usr/local/bin/poetry <<'STUB'
#!/bin/sh
# dockerfix stub for `poetry install` and `uv sync`, chosen by the name it is called by: one deterministic module per
# package of poetry.lock / uv.lock, then the project itself unless --no-root / --no-install-project. What it does not
# model fails with exit 3; errors the real tools give fail with exit 1.
me=${0##*/}
die() { echo "$me stub: $*" >&2; exit 1; }
unsupported() { echo "$me stub: $*" >&2; exit 3; }
normname() { printf '%s' "$1" | tr 'A-Z.-' 'a-z__'; }
locked() {  # the [[package]] tables of a lock file: "name version optional source" lines
  awk '/^\[/ { if (n != "") print n, v, o, s; n = v = s = ""; o = "false"; on = ($0 == "[[package]]"); next }
    !on { next }
    /^name = "/ { n = $3; gsub(/"/, "", n) }
    /^version = "/ { v = $3; gsub(/"/, "", v) }
    /^optional = / { o = $3 }
    /^source = / { s = $0; sub(/^source = /, "", s); gsub(/ /, "", s) }
    END { if (n != "") print n, v, o, s }' "$1"
}
field() {  # a key of [project] or [tool.poetry] in pyproject.toml
  awk -v k="$1" '/^\[/ { on = ($0 == "[project]" || $0 == "[tool.poetry]"); next }
    on && $1 == k && $2 == "=" { v = $3; gsub(/"/, "", v); print v; exit }' pyproject.toml
}
install_package() {  # site name version; a package already there is left alone, as the real tools do
  local dir text
  dir=$1/$(normname "$2") text="# dockerfix stub of $2==$3"
  [ "$(cat "$dir/__init__.py" 2>/dev/null)" = "$text" ] && return
  mkdir -p "$dir" && printf '%s\n' "$text" > "$dir/__init__.py" || exit 1
}
install_project() {  # site name version: a .pth to the sources and the sha256 of each source file
  local name pkg top info
  name=$(normname "$2")
  for pkg in "src/$name" "$name" "$name.py" ""; do [ -e "$pkg" ] && break; done
  [ -n "$pkg" ] || die "project $2: no src/$name, $name or $name.py in $PWD"
  case "$pkg" in src/*) top=$PWD/src ;; *) top=$PWD ;; esac
  info=$1/$name-$3.dist-info
  mkdir -p "$info" && printf '%s\n' "$top" > "$1/$name.pth" || exit 1
  find pyproject.toml "$pkg" -type f ! -name '*.pyc' | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done \
    > "$info/SOURCES" || exit 1
}

root=1
case "$me $1" in
  "poetry install")
    # python images have no poetry: it is there once `pip install poetry` has run.
    [ -f /usr/local/lib/python3/site-packages/poetry/__init__.py ] \
      || { echo "sh: poetry: not found (pip install poetry first)" >&2; exit 127; }
    shift
    while [ $# -gt 0 ]; do
      case "$1" in
        --no-root) root= ;;
        --only=main) ;;
        --only|--with|--without) [ "$1 $2" = "--only main" ] || die "Group(s) not found: $2 (via $1)"; shift ;;
        --only=*|--with=*|--without=*) die "Group(s) not found: ${1#*=} (via ${1%%=*})" ;;
        -n|--no-interaction|--no-ansi|--ansi|-q|--quiet|-v|-vv|-vvv|--sync|--compile|--no-cache) ;;
        *) unsupported "unsupported option $1" ;;
      esac
      shift
    done
    [ -f pyproject.toml ] || die "Poetry could not find a pyproject.toml file in $PWD"
    [ -f poetry.lock ] || unsupported "poetry.lock not found in $PWD: this stub installs from a lock file only"
    [ ! -f poetry.toml ] || unsupported "poetry.toml is not modelled"
    ! grep -q '^\[tool\.poetry\.\(group\.\|dev-dependencies\)\|^packages *=' pyproject.toml \
      || unsupported "dependency groups besides main and explicit packages are not modelled"
    grep -q '^package-mode *= *false' pyproject.toml && root=
    case "$POETRY_VIRTUALENVS_CREATE:$POETRY_VIRTUALENVS_IN_PROJECT" in
      false:*|0:*) prefix=${VIRTUAL_ENV:-/usr/local} ;;
      *:true|*:1) prefix=$PWD/.venv ;;
      *) unsupported "set POETRY_VIRTUALENVS_CREATE=false or POETRY_VIRTUALENVS_IN_PROJECT=true (no venv in the cache dir)" ;;
    esac
    [ -z "$root" ] || [ -n "$(field name)" ] || die "pyproject.toml: no name in [tool.poetry] or [project]"
    lock=poetry.lock project="$(field name) $(field version)" venv= ;;
  "uv sync")
    shift
    while [ $# -gt 0 ]; do
      case "$1" in
        --no-install-project) root= ;;
        --frozen|--locked|--no-dev|--compile-bytecode|--no-cache|-q|--quiet|-v|--verbose) ;;
        *) unsupported "unsupported option $1" ;;
      esac
      shift
    done
    [ -f pyproject.toml ] || die "No \`pyproject.toml\` found in $PWD"
    [ -f uv.lock ] || unsupported "uv.lock not found in $PWD: this stub installs from a lock file only"
    ! grep -q '^\[package\.dev-dependencies\]' uv.lock || unsupported "dependency groups are not modelled"
    prefix=${UV_PROJECT_ENVIRONMENT:-.venv}
    case "$prefix" in /*) ;; *) prefix=$PWD/$prefix ;; esac
    lock=uv.lock project= venv=--without-pip ;;
  "poetry --version") echo "Poetry (version 1.8.3, dockerfix stub)"; exit 0 ;;
  "uv --version") echo "uv 0.4.0 (dockerfix stub)"; exit 0 ;;
  *) unsupported "only \`poetry install\` and \`uv sync\` are modelled, not: $me $*" ;;
esac
[ "$prefix" = /usr/local ] || [ -f "$prefix/pyvenv.cfg" ] || /usr/local/bin/python3 -m venv $venv "$prefix" || exit 1
site=$prefix/lib/python3/site-packages
list=$(locked "$lock") || die "cannot read $lock"
mkdir -p "$site" || exit 1
while read -r name version optional source; do
  [ -n "$name" ] || continue
  [ -n "$version" ] || die "$lock: $name has no version"
  case "$source" in
    '{editable="."}') project="$name $version"; continue ;;
    '{virtual="."}') continue ;;
    '{editable='*|'{path='*|'{directory='*|'{workspace='*) unsupported "$lock: $name: path sources are not modelled" ;;
  esac
  [ "$optional" = true ] || install_package "$site" "$name" "$version"
done <<EOF
$list
EOF
[ -z "$root" ] || [ -z "$project" ] || install_project "$site" $project
STUB
link usr/local/bin/uv poetry

stub usr/local/bin/npm <<'STUB'
#!/bin/sh
# dockerfix stub for npm: `npm ci` writes node_modules/<path>/package.json for each package of package-lock.json
# (lockfileVersion 2 or 3, laid out as npm writes it); `npm run NAME` runs that script with sh -c, as npm does.
# What it does not model fails with exit 3; errors the real npm gives fail with exit 1.
die() { echo "npm stub: $*" >&2; exit 1; }
unsupported() { echo "npm stub: $*" >&2; exit 3; }
scripts() {  # the "scripts" object of package.json, on one line
  tr -d '\n' < package.json | sed -n 's/.*"scripts"[[:space:]]*:[[:space:]]*{\([^}]*\)}.*/\1/p'
}
has_script() { scripts | grep -q "\"$1\"[[:space:]]*:"; }
case "$1" in -v|--version) echo "10.8.2"; exit 0 ;; esac
[ -f package.json ] || die "could not read package.json in $PWD"
cmd=$1
[ $# -gt 0 ] && shift
case "$cmd" in
  run|run-script)
    [ $# -eq 1 ] || unsupported "usage: npm run SCRIPT (arguments are not modelled)"
    case "$1" in ''|*[!A-Za-z0-9:_-]*) unsupported "script name $1 is not modelled" ;; esac
    ! scripts | grep -q '\\' || unsupported "escapes in package.json scripts are not modelled"
    script=$(scripts | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p")
    [ -n "$script" ] || die "Missing script: \"$1\""
    ! { has_script "pre$1" || has_script "post$1"; } || unsupported "pre$1/post$1 scripts are not modelled"
    printf '\n> %s\n> %s\n\n' "$1" "$script"
    PATH=$PWD/node_modules/.bin:$PATH exec sh -c "$script" ;;
  ci) ;;
  *) unsupported "only \`npm ci\` and \`npm run SCRIPT\` are modelled, not: npm $cmd" ;;
esac
omit= lifecycle=1
[ "$NODE_ENV" != production ] || omit=dev
while [ $# -gt 0 ]; do
  case "$1" in
    --omit=dev|--production) omit=dev ;;
    --omit) [ "$2" = dev ] || unsupported "--omit $2 is not modelled"; omit=dev; shift ;;
    --include=dev) omit= ;;
    --ignore-scripts) lifecycle= ;;
    --no-audit|--no-fund|--no-progress|--prefer-offline|-q|--quiet|-s|--silent|--loglevel=*) ;;
    *) unsupported "unsupported option $1" ;;
  esac
  shift
done
[ -f package-lock.json ] || die "The \`npm ci\` command can only install with an existing package-lock.json"
grep -q '^  "lockfileVersion": [23],$' package-lock.json && grep -q '^  "packages": {$' package-lock.json \
  || unsupported "package-lock.json is not a lockfileVersion 2/3 file laid out as npm writes it"
if [ -n "$lifecycle" ]; then
  for s in preinstall install postinstall prepare; do ! has_script $s || unsupported "\"$s\" scripts are not modelled"; done
  ! grep -q '"hasInstallScript": true' package-lock.json || unsupported "install scripts of dependencies are not modelled"
fi
list=$(awk '/^  "packages": \{$/ { on = 1; next }
  !on { next }
  /^  }/ { exit }
  /^    "/ { k = $0; sub(/^    "/, "", k); sub(/".*/, "", k); v = ""; d = l = 0; next }
  /^      "version": "/ { v = $2; gsub(/[",]/, "", v) }
  /^      "dev": true/ { d = 1 }
  /^      "link": true/ { l = 1 }
  /^    }/ && k != "" { print k, v, d, l }' package-lock.json) || die "cannot read package-lock.json"
rm -rf node_modules || exit 1
while read -r key version dev link; do
  [ -n "$key" ] || continue
  case "/$key/" in /node_modules/*/) ;; *) unsupported "package $key: only node_modules/ entries are modelled" ;; esac
  case "/$key/" in */../*|*/./*|*//*) die "package $key: bad path" ;; esac
  [ "$link" = 0 ] && [ -n "$version" ] || unsupported "package $key: links and packages without a version are not modelled"
  [ "$dev" = 1 ] && [ "$omit" = dev ] && continue
  mkdir -p "$key" && printf '{\n  "name": "%s",\n  "version": "%s"\n}\n' "${key##*node_modules/}" "$version" \
    > "$key/package.json" || exit 1
done <<EOF
$list
EOF
STUB

# --numeric-owner: owners as numbers (the importers map names through the host's passwd otherwise);
# --sort=name: the same tree gives the same member order. One pass, then rename: a reader never sees half a tar.
tar --numeric-owner --sort=name -C "$ROOT" -cf "$TAR.tmp.$$" .
mv "$TAR.tmp.$$" "$TAR"
echo "recipe $RECIPE size $(stat -c %s "$TAR")" > "$STAMP.tmp.$$"
mv "$STAMP.tmp.$$" "$STAMP"
echo "debian-base.sh: $TAR ($(($(stat -c %s "$TAR") / 1000000)) MB) in $((SECONDS - start)) s" >&2
echo "$TAR"
