"""Stub script templates for Python packaging: pip, python (venv, -m pip) and one script behind poetry and uv. Every
file they write is a function of their arguments and inputs only, so equivalent builds give equal images. Lines marked
``S|`` / ``L|`` are in the strict (Debian base) / lenient (busybox base) stubs only: see ``stubs.render``."""

from __future__ import annotations

PIP = r"""#!/bin/sh
S|# dockerfix stub for pip: `pip install` writes one deterministic module (and a 200 kB _native.so) per requirement,
S|# follows -r includes, installs local projects by the sha256 of their files, and logs the call. Options it does not
S|# model fail with exit 3. The prefix is the venv this pip lives in (found from $0, or handed over by
S|# `python -m pip`), else /usr/local.
L|# dockerfix stub for pip: `pip install` writes one deterministic module per requirement and logs the call.
L|# The prefix is the venv this pip lives in (found from $0, or handed over by `python -m pip`), else /usr/local.
log=/usr/local/lib/python3/pip.log
prefix=$DOCKERFIX_PY_PREFIX
if [ -z "$prefix" ]; then
  here=$(dirname "$0")
  if [ -f "$here/../pyvenv.cfg" ]; then prefix=$(cd "$here/.." && pwd); else prefix=/usr/local; fi
fi
S|unsupported() { echo "pip stub: unsupported $*" >&2; exit 3; }
L|unsupported() { echo "pip stub: unsupported $*" >&2; exit 2; }
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
S|      -i*|--index-url*|--extra-index-url*|-f*|--find-links*|--trusted-host*|--no-binary*|--only-binary*|--prefer-binary|--pre|-c*|--constraint*|--no-index|--require-hashes) ;;
S|      -*) unsupported "option $line in $file" ;;
S|      *--hash=*) add R "${line%%--hash=*}" ;;
L|      -*) ;;
      .*|/*) add L "$line" ;;
      *) add R "$line" ;;
    esac
  done < "$file"
}
project_name() {
  local n=
S|  [ -f "$1/pyproject.toml" ] || [ -f "$1/setup.py" ] || [ -f "$1/setup.cfg" ] || {
S|    echo "ERROR: Directory '$2' is not installable. Neither 'setup.py' nor 'pyproject.toml' found." >&2; exit 1; }
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
S|    --constraint=*|--index-url=*|--extra-index-url=*|--find-links=*|--only-binary=*|--no-binary=*|--progress-bar=*|--cache-dir=*|--root-user-action=*|--platform=*|--python-version=*|--implementation=*|--abi=*|--src=*|--log=*|--timeout=*|--retries=*|--trusted-host=*|--upgrade-strategy=*|--global-option=*|--config-settings=*|--root=*|--report=*) ;;
S|    --no-cache-dir|--no-deps|-q|--quiet|-qq|-qqq|-v|--verbose|-U|--upgrade|--force-reinstall|-I|--ignore-installed|--no-compile|--compile|--pre|--no-build-isolation|--disable-pip-version-check|--no-warn-script-location|--no-warn-conflicts|--no-input|--break-system-packages|--no-index|--prefer-binary|--require-hashes|--use-pep517|--no-use-pep517|--isolated|--exists-action=*) ;;
S|    -*) unsupported "option $arg" ;;
L|    -*) ;;
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
S|      head -c 200000 /dev/zero > "$site/$name/_native.so"
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
"""

PYTHON = r"""#!/bin/sh
S|# dockerfix stub for python: supports -m venv, -m pip, -m compileall and --version; anything else fails with exit 3.
L|# dockerfix stub for python: supports -m venv, -m pip, -m compileall and --version; anything else fails loudly.
here=$(dirname "$0")
if [ -f "$here/../pyvenv.cfg" ]; then prefix=$(cd "$here/.." && pwd); else prefix=/usr/local; fi
case "$1" in
  -V|--version) echo "Python 3.11.2"; exit 0 ;;
  -m) ;;
S|  *) echo "python stub: only -m venv, -m pip, -m compileall and --version are supported, not: $*" >&2; exit 3 ;;
L|  *) echo "python stub: only -m venv, -m pip, -m compileall and --version are supported" >&2; exit 2 ;;
esac
module=$2
shift 2
case "$module" in
  pip) DOCKERFIX_PY_PREFIX=$prefix exec /usr/local/bin/pip "$@" ;;
  compileall) exit 0 ;;
  venv) ;;
S|  *) echo "python stub: module $module is not supported" >&2; exit 3 ;;
L|  *) echo "python stub: module $module is not supported" >&2; exit 2 ;;
esac
dir= withpip=1
while [ $# -gt 0 ]; do
  arg=$1; shift
  case "$arg" in
    --without-pip) withpip= ;;
    --prompt) shift ;;
S|    --copies|--symlinks|--clear|--upgrade-deps|--system-site-packages) ;;
S|    -*) echo "python stub: venv option $arg is not supported" >&2; exit 3 ;;
L|    -*) ;;
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
S|# package of poetry.lock / uv.lock, then the project itself unless --no-root / --no-install-project. What it does not
S|# model fails with exit 3; errors the real tools give fail with exit 1.
L|# package of poetry.lock / uv.lock, then the project itself unless --no-root / --no-install-project.
me=${0##*/}
die() { echo "$me stub: $*" >&2; exit 1; }
S|unsupported() { echo "$me stub: $*" >&2; exit 3; }
L|unsupported() { die "$@"; }
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
"""
