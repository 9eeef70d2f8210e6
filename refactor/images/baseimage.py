"""The recipe of the small base image the build tests run on: Debian's static busybox plus stub tools.

The stubs stand in for git, pip, python, poetry, uv, npm and the account tools so that Dockerfiles written for real
images build here without network. Every file they write is a function of their arguments and inputs only (no
timestamps, no randomness), so two builds of equivalent Dockerfiles give identical images.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

BASE_IMAGE = "localhost/dockerfix-base"
BUSYBOX = Path("/bin/busybox")
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""

# Debian names group 65534 "nogroup"; `chown nobody:nogroup` is what Debian-based Dockerfiles write.
GROUP = """\
root:x:0:
daemon:x:1:
www-data:x:33:
users:x:100:
nogroup:x:65534:
"""

# (path, mode); owned by root. proc/sys/dev/run exist so that the first RUN does not add them as placeholders.
DIRECTORIES = (
    ("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("home", 0o755), ("opt", 0o755), ("proc", 0o555),
    ("root", 0o700), ("run", 0o755), ("sbin", 0o755), ("srv", 0o755), ("sys", 0o555), ("tmp", 0o1777),
    ("usr", 0o755), ("usr/bin", 0o755), ("usr/local", 0o755), ("usr/local/bin", 0o755),
    ("usr/local/sbin", 0o755), ("usr/sbin", 0o755), ("var", 0o755), ("var/lib", 0o755), ("var/tmp", 0o1777),
)

EMPTY_FILES = ("etc/hostname", "etc/hosts", "etc/resolv.conf")

GIT = r"""#!/bin/sh
# dockerfix stub for git: `git clone URL [DIR]` writes a fixed small tree; other commands do nothing.
while [ $# -gt 0 ]; do
  case "$1" in
    -C) cd "$2" || exit 128; shift 2 ;;
    -c) shift 2 ;;
    --*) shift ;;
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
        -*) ;;
        *) if [ -z "$url" ]; then url=$arg; elif [ -z "$dir" ]; then dir=$arg; fi ;;
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
  *) echo "git stub: unsupported command: $cmd" >&2; exit 1 ;;
esac
"""

PIP = r"""#!/bin/sh
# dockerfix stub for pip: `pip install` writes one deterministic module per requirement and logs the call.
# The prefix is the venv this pip lives in (found from $0, or handed over by `python -m pip`), else /usr/local.
log=/usr/local/lib/python3/pip.log
prefix=$DOCKERFIX_PY_PREFIX
if [ -z "$prefix" ]; then
  here=$(dirname "$0")
  if [ -f "$here/../pyvenv.cfg" ]; then prefix=$(cd "$here/.." && pwd); else prefix=/usr/local; fi
fi
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
      -*) ;;
      .*|/*) add L "$line" ;;
      *) add R "$line" ;;
    esac
  done < "$file"
}
project_name() {
  local n=
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
  *) echo "pip stub: unsupported command: $cmd" >&2; exit 2 ;;
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
    -*) ;;
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
      logline="$logline $spec" ;;
    L|E)
      if [ -d "$value" ]; then
        src=$(cd "$value" && pwd)
        name=$(project_name "$src")
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
"""

PYTHON = r"""#!/bin/sh
# dockerfix stub for python: supports -m venv, -m pip, -m compileall and --version; anything else fails loudly.
here=$(dirname "$0")
if [ -f "$here/../pyvenv.cfg" ]; then prefix=$(cd "$here/.." && pwd); else prefix=/usr/local; fi
case "$1" in
  -V|--version) echo "Python 3.11.2"; exit 0 ;;
  -m) ;;
  *) echo "python stub: only -m venv, -m pip, -m compileall and --version are supported" >&2; exit 2 ;;
esac
module=$2
shift 2
case "$module" in
  pip) DOCKERFIX_PY_PREFIX=$prefix exec /usr/local/bin/pip "$@" ;;
  compileall) exit 0 ;;
  venv) ;;
  *) echo "python stub: module $module is not supported" >&2; exit 2 ;;
esac
dir= withpip=1
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --without-pip) withpip= ;;
    --prompt) shift ;;
    -*) ;;
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
"""

# One script behind poetry and uv: both read a TOML lock file of [[package]] tables and install the project itself
# the way an editable install does; the project's files are recorded by sha256, so a source COPY that is missing or
# comes too late shows up (a failed build or a different image).
LOCKED = r"""#!/bin/sh
# dockerfix stub for `poetry install` and `uv sync`, chosen by the name it is called by: one deterministic module per
# package of poetry.lock / uv.lock, then the project itself unless --no-root / --no-install-project.
me=${0##*/}
die() { echo "$me stub: $*" >&2; exit 1; }
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
        *) die "unsupported option $1" ;;
      esac
      shift
    done
    [ -f pyproject.toml ] || die "Poetry could not find a pyproject.toml file in $PWD"
    [ -f poetry.lock ] || die "poetry.lock not found in $PWD: this stub installs from a lock file only"
    [ ! -f poetry.toml ] || die "poetry.toml is not modelled"
    ! grep -q '^\[tool\.poetry\.\(group\.\|dev-dependencies\)\|^packages *=' pyproject.toml \
      || die "dependency groups besides main and explicit packages are not modelled"
    grep -q '^package-mode *= *false' pyproject.toml && root=
    case "$POETRY_VIRTUALENVS_CREATE:$POETRY_VIRTUALENVS_IN_PROJECT" in
      false:*|0:*) prefix=${VIRTUAL_ENV:-/usr/local} ;;
      *:true|*:1) prefix=$PWD/.venv ;;
      *) die "set POETRY_VIRTUALENVS_CREATE=false or POETRY_VIRTUALENVS_IN_PROJECT=true (no venv in the cache dir)" ;;
    esac
    [ -z "$root" ] || [ -n "$(field name)" ] || die "pyproject.toml: no name in [tool.poetry] or [project]"
    lock=poetry.lock project="$(field name) $(field version)" venv= ;;
  "uv sync")
    shift
    while [ $# -gt 0 ]; do
      case "$1" in
        --no-install-project) root= ;;
        --frozen|--locked|--no-dev|--compile-bytecode|--no-cache|-q|--quiet|-v|--verbose) ;;
        *) die "unsupported option $1" ;;
      esac
      shift
    done
    [ -f pyproject.toml ] || die "No \`pyproject.toml\` found in $PWD"
    [ -f uv.lock ] || die "uv.lock not found in $PWD: this stub installs from a lock file only"
    ! grep -q '^\[package\.dev-dependencies\]' uv.lock || die "dependency groups are not modelled"
    prefix=${UV_PROJECT_ENVIRONMENT:-.venv}
    case "$prefix" in /*) ;; *) prefix=$PWD/$prefix ;; esac
    lock=uv.lock project= venv=--without-pip ;;
  "poetry --version") echo "Poetry (version 1.8.3, dockerfix stub)"; exit 0 ;;
  "uv --version") echo "uv 0.4.0 (dockerfix stub)"; exit 0 ;;
  *) die "only \`poetry install\` and \`uv sync\` are modelled, not: $me $*" ;;
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
    '{editable='*|'{path='*|'{directory='*|'{workspace='*) die "$lock: $name: path sources are not modelled" ;;
  esac
  [ "$optional" = true ] || install_package "$site" "$name" "$version"
done <<EOF
$list
EOF
[ -z "$root" ] || [ -z "$project" ] || install_project "$site" $project
"""

NPM = r"""#!/bin/sh
# dockerfix stub for npm: `npm ci` writes node_modules/<path>/package.json for each package of package-lock.json
# (lockfileVersion 2 or 3, laid out as npm writes it); `npm run NAME` runs that script with sh -c, as npm does.
die() { echo "npm stub: $*" >&2; exit 1; }
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
    [ $# -eq 1 ] || die "usage: npm run SCRIPT (arguments are not modelled)"
    case "$1" in ''|*[!A-Za-z0-9:_-]*) die "script name $1 is not modelled" ;; esac
    ! scripts | grep -q '\\' || die "escapes in package.json scripts are not modelled"
    script=$(scripts | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p")
    [ -n "$script" ] || die "Missing script: \"$1\""
    ! { has_script "pre$1" || has_script "post$1"; } || die "pre$1/post$1 scripts are not modelled"
    printf '\n> %s\n> %s\n\n' "$1" "$script"
    PATH=$PWD/node_modules/.bin:$PATH exec sh -c "$script" ;;
  ci) ;;
  *) die "only \`npm ci\` and \`npm run SCRIPT\` are modelled, not: npm $cmd" ;;
esac
omit= lifecycle=1
[ "$NODE_ENV" != production ] || omit=dev
while [ $# -gt 0 ]; do
  case "$1" in
    --omit=dev|--production) omit=dev ;;
    --omit) [ "$2" = dev ] || die "--omit $2 is not modelled"; omit=dev; shift ;;
    --include=dev) omit= ;;
    --ignore-scripts) lifecycle= ;;
    --no-audit|--no-fund|--no-progress|--prefer-offline|-q|--quiet|-s|--silent|--loglevel=*) ;;
    *) die "unsupported option $1" ;;
  esac
  shift
done
[ -f package-lock.json ] || die "The \`npm ci\` command can only install with an existing package-lock.json"
grep -q '^  "lockfileVersion": [23],$' package-lock.json && grep -q '^  "packages": {$' package-lock.json \
  || die "package-lock.json is not a lockfileVersion 2/3 file laid out as npm writes it"
if [ -n "$lifecycle" ]; then
  for s in preinstall install postinstall prepare; do ! has_script $s || die "\"$s\" scripts are not modelled"; done
  ! grep -q '"hasInstallScript": true' package-lock.json || die "install scripts of dependencies are not modelled"
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
  case "/$key/" in /node_modules/*/) ;; *) die "package $key: only node_modules/ entries are modelled" ;; esac
  case "/$key/" in */../*|*/./*|*//*) die "package $key: bad path" ;; esac
  [ "$link" = 0 ] && [ -n "$version" ] || die "package $key: links and packages without a version are not modelled"
  [ "$dev" = 1 ] && [ "$omit" = dev ] && continue
  mkdir -p "$key" && printf '{\n  "name": "%s",\n  "version": "%s"\n}\n' "${key##*node_modules/}" "$version" \
    > "$key/package.json" || exit 1
done <<EOF
$list
EOF
"""

# One script behind adduser, addgroup, useradd and groupadd (Debian's busybox-static has none of them).
# adduser/addgroup follow busybox (gecos "Linux User,,,", home 0755 created unless -H, own group with gid = uid);
# useradd/groupadd follow Debian's shadow defaults (own group, home only with -m, shell /bin/sh).
ACCOUNTS = r"""#!/bin/sh
# dockerfix stub for adduser / addgroup / useradd / groupadd, chosen by the name it is called by.
die() { echo "${0##*/}: $*" >&2; exit 1; }
first_id() { if [ -n "$system" ]; then echo 100; else echo 1000; fi; }
free_id() {  # $1 file, $2 first id to try
  awk -F: -v s="$2" '{ used[$3] = 1 } END { while (s in used) s++; print s }' "$1"
}
gid_of() { awk -F: -v n="$1" '$1 == n || $3 == n { print $3; exit }' /etc/group; }
has_user() { grep -q "^$1:" /etc/passwd; }
has_group() { grep -q "^$1:" /etc/group; }
new_group() {  # name gid
  has_group "$1" && die "group '$1' in use"
  printf '%s:x:%s:\n' "$1" "$2" >> /etc/group
}
add_member() {  # user group
  has_group "$2" || die "unknown group $2"
  awk -F: -v OFS=: -v u="$1" -v g="$2" '
    $1 == g { n = split($4, m, ","); found = 0
              for (i = 1; i <= n; i++) if (m[i] == u) found = 1
              if (!found) $4 = ($4 == "" ? u : $4 "," u) }
    { print }' /etc/group > /etc/group.dockerfix && cat /etc/group.dockerfix > /etc/group && rm -f /etc/group.dockerfix
}
make_home() {  # dir uid gid
  mkdir -p "$1" && chmod 755 "$1" && chown "$2:$3" "$1"
}

case "${0##*/}" in
  adduser)
    home= shell=/bin/sh gecos="Linux User,,," uid= group= nohome= system=
    while getopts "h:g:s:G:DSHu:k:" opt; do
      case $opt in
        h) home=$OPTARG ;; g) gecos=$OPTARG ;; s) shell=$OPTARG ;; G) group=$OPTARG ;;
        S) system=1 ;; H) nohome=1 ;; u) uid=$OPTARG ;; D|k) ;; *) exit 1 ;;
      esac
    done
    shift $((OPTIND - 1))
    [ -n "$1" ] || die "usage: adduser [-D] [-H] [-S] [-u UID] [-G GROUP] [-h HOME] [-s SHELL] [-g GECOS] USER [GROUP]"
    if [ $# -ge 2 ]; then has_user "$1" || die "unknown user $1"; add_member "$1" "$2"; exit 0; fi
    name=$1
    has_user "$name" && die "user '$name' in use"
    if [ -n "$system" ]; then
      [ -n "$uid" ] || uid=$(free_id /etc/passwd 100)
      [ -n "$group" ] || group=nogroup
    fi
    [ -n "$uid" ] || uid=$(free_id /etc/passwd 1000)
    if [ -n "$group" ]; then
      gid=$(gid_of "$group"); [ -n "$gid" ] || die "unknown group $group"
    else
      gid=$uid; grep -q "^[^:]*:[^:]*:$gid:" /etc/group && gid=$(free_id /etc/group "$uid")
      new_group "$name" "$gid"
    fi
    [ -n "$home" ] || home=/home/$name
    printf '%s:x:%s:%s:%s:%s:%s\n' "$name" "$uid" "$gid" "$gecos" "$home" "$shell" >> /etc/passwd
    [ -n "$nohome" ] || make_home "$home" "$uid" "$gid"
    ;;
  addgroup)
    gid= system=
    while getopts "g:S" opt; do
      case $opt in g) gid=$OPTARG ;; S) system=1 ;; *) exit 1 ;; esac
    done
    shift $((OPTIND - 1))
    [ -n "$1" ] || die "usage: addgroup [-g GID] [-S] [USER] GROUP"
    if [ $# -ge 2 ]; then has_user "$1" || die "unknown user $1"; add_member "$1" "$2"; exit 0; fi
    [ -n "$gid" ] || gid=$(free_id /etc/group "$(first_id)")
    new_group "$1" "$gid"
    ;;
  useradd)
    uid= group= groups= home= shell=/bin/sh comment= mkhome= system= nogroup= unique=1
    while [ $# -gt 1 ]; do
      case "$1" in
        -u|--uid) uid=$2; shift ;; -g|--gid) group=$2; shift ;; -G|--groups) groups=$2; shift ;;
        -d|--home-dir) home=$2; shift ;; -s|--shell) shell=$2; shift ;; -c|--comment) comment=$2; shift ;;
        -k|--skel|-K|--key|-e|--expiredate|-f|--inactive|-p|--password) shift ;;
        -m|--create-home) mkhome=1 ;; -M|--no-create-home) mkhome= ;; -r|--system) system=1 ;;
        -N|--no-user-group) nogroup=1 ;; -o|--non-unique) unique= ;; -U|--user-group|-l|--no-log-init) ;;
        *) die "unsupported option $1" ;;
      esac
      shift
    done
    name=$1
    [ -n "$name" ] || die "usage: useradd [options] LOGIN"
    has_user "$name" && die "user '$name' already exists"
    if [ -n "$uid" ]; then
      [ -n "$unique" ] && cut -d: -f3 /etc/passwd | grep -qx "$uid" && die "UID $uid is not unique"
    else
      uid=$(free_id /etc/passwd "$(first_id)")
    fi
    if [ -n "$group" ]; then
      gid=$(gid_of "$group"); [ -n "$gid" ] || die "group '$group' does not exist"
    elif [ -n "$nogroup" ]; then
      gid=100
    else
      gid=$uid; grep -q "^[^:]*:[^:]*:$gid:" /etc/group && gid=$(free_id /etc/group "$uid")
      new_group "$name" "$gid"
    fi
    [ -n "$home" ] || home=/home/$name
    printf '%s:x:%s:%s:%s:%s:%s\n' "$name" "$uid" "$gid" "$comment" "$home" "$shell" >> /etc/passwd
    for g in $(echo "$groups" | tr ',' ' '); do add_member "$name" "$g"; done
    [ -z "$mkhome" ] || make_home "$home" "$uid" "$gid"
    ;;
  groupadd)
    gid= system= force=
    while [ $# -gt 1 ]; do
      case "$1" in
        -g|--gid) gid=$2; shift ;; -r|--system) system=1 ;; -f|--force) force=1 ;; -o|--non-unique) ;;
        *) die "unsupported option $1" ;;
      esac
      shift
    done
    [ -n "$1" ] || die "usage: groupadd [-g GID] [-r] [-f] GROUP"
    if [ -n "$force" ] && has_group "$1"; then exit 0; fi
    [ -n "$gid" ] || gid=$(free_id /etc/group "$(first_id)")
    new_group "$1" "$gid"
    ;;
  *) die "unknown account tool" ;;
esac
"""

# (path in image, script text); the account tools are links to one script.
SCRIPTS = (
    ("usr/local/bin/git", GIT),
    ("usr/local/bin/pip", PIP),
    ("usr/local/bin/python3", PYTHON),
    ("usr/local/bin/poetry", LOCKED),
    ("usr/local/bin/npm", NPM),
    ("usr/sbin/adduser", ACCOUNTS),
)
SCRIPT_LINKS = (
    ("usr/local/bin/pip3", "pip"),
    ("usr/local/bin/python", "python3"),
    ("usr/local/bin/uv", "poetry"),
    ("usr/sbin/addgroup", "adduser"),
    ("usr/sbin/useradd", "adduser"),
    ("usr/sbin/groupadd", "adduser"),
    ("usr/sbin/nologin", "/bin/busybox"),
    ("sbin/nologin", "/bin/busybox"),
)


@dataclass(frozen=True)
class Rootfs:
    tar: bytes
    digest: str  # sha256 of the tar: the cache key of the base image

    @property
    def key(self) -> str:
        return self.digest[:16]


def busybox_applets(busybox: Path = BUSYBOX) -> list[str]:
    result = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    return sorted(name for name in result.stdout.split() if name and name != "busybox" and "/" not in name)


def build_rootfs(busybox: Path = BUSYBOX) -> Rootfs:
    """The base rootfs as a tar with numeric owners and fixed mtimes, so equal inputs give equal bytes."""
    buffer = io.BytesIO()
    # Empty user/group names: owners are numeric only, as `tar --numeric-owner` writes them.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, 0, 0, 0
            info.uname = info.gname = ""
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        for name, mode in DIRECTORIES:
            add(name, tarfile.DIRTYPE, mode)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        for applet in busybox_applets(busybox):
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
        add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
        for name in EMPTY_FILES:
            add(name, tarfile.REGTYPE, 0o644)
        for name, text in SCRIPTS:
            add(name, tarfile.REGTYPE, 0o755, text.encode())
        for name, target in SCRIPT_LINKS:
            add(name, tarfile.SYMTYPE, 0o777, link=target)
    data = buffer.getvalue()
    return Rootfs(data, hashlib.sha256(data + PATH_ENV.encode()).hexdigest())
