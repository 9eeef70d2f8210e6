"""The stub tools of both test bases, from one source: git, npm and the account tools (adduser, addgroup, useradd,
groupadd) here, the Python ones in ``pystubs``. Deterministic: every file they write is a function of their arguments
and inputs only.

Two modes, so the bases stop drifting apart: the busybox base (``baseimage``) gets the lenient stubs, which ignore
options they do not model; the Debian base (tests/builders/debian-base.sh runs
``python3 -m dockerfix.refactor.images.stubs --strict ROOTFS``) gets the strict ones, which fail with exit 3 on what
they do not model and add a little realism (pip's 200 kB ``_native.so`` per requirement). In a template, a line that
starts with ``S|`` is in the strict stubs only and one that starts with ``L|`` in the lenient ones only; every other
line is in both.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

from dockerfix.refactor.images.pystubs import LOCKED, PIP, PYTHON

STRICT_ONLY, LENIENT_ONLY = "S|", "L|"


def render(template: str, *, strict: bool) -> str:
    """The script of one mode: the other mode's lines left out, this mode's marks taken off."""
    keep, drop = (STRICT_ONLY, LENIENT_ONLY) if strict else (LENIENT_ONLY, STRICT_ONLY)
    lines = template.splitlines(keepends=True)
    return "".join(line.removeprefix(keep) for line in lines if not line.startswith(drop))

GIT = r"""#!/bin/sh
S|# dockerfix stub for git: `git clone URL [DIR]` writes a fixed small tree; checkout/fetch/config and the like do
S|# nothing; anything else fails with exit 3.
L|# dockerfix stub for git: `git clone URL [DIR]` writes a fixed small tree; other commands do nothing.
S|unsupported() { echo "git stub: unsupported $*" >&2; exit 3; }
L|unsupported() { echo "git stub: unsupported $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    -C) cd "$2" || exit 128; shift 2 ;;
    -c) shift 2 ;;
S|    --no-pager|--git-dir=*|--work-tree=*) shift ;;
S|    -*) unsupported "option $1" ;;
L|    --*) shift ;;
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
S|        --depth=*|--origin=*|--config=*|--reference=*|--separate-git-dir=*|--jobs=*|--filter=*|--template=*|--shallow-since=*|--shallow-exclude=*|--recurse-submodules=*) ;;
S|        -q|--quiet|-v|--verbose|--progress|--single-branch|--no-single-branch|--no-tags|--recursive|--recurse-submodules|--shallow-submodules|--no-shallow-submodules|--remote-submodules) ;;
S|        -*) unsupported "git clone option $arg" ;;
S|        *) if [ -z "$url" ]; then url=$arg; elif [ -z "$dir" ]; then dir=$arg; else unsupported "git clone argument $arg"; fi ;;
L|        -*) ;;
L|        *) if [ -z "$url" ]; then url=$arg; elif [ -z "$dir" ]; then dir=$arg; fi ;;
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
"""

NPM = r"""#!/bin/sh
# dockerfix stub for npm: `npm ci` writes node_modules/<path>/package.json for each package of package-lock.json
# (lockfileVersion 2 or 3, laid out as npm writes it); `npm run NAME` runs that script with sh -c, as npm does.
S|# What it does not model fails with exit 3; errors the real npm gives fail with exit 1.
die() { echo "npm stub: $*" >&2; exit 1; }
S|unsupported() { echo "npm stub: $*" >&2; exit 3; }
L|unsupported() { die "$@"; }
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


# (path in the rootfs, template): the tools both bases have; each is a script of mode 0755 owned by root.
_TOOLS = (
    ("usr/local/bin/git", GIT),
    ("usr/local/bin/pip", PIP),
    ("usr/local/bin/python3", PYTHON),
    ("usr/local/bin/poetry", LOCKED),
    ("usr/local/bin/npm", NPM),
)
# (path, relative target): the other names the scripts answer to.
TOOL_LINKS = (
    ("usr/local/bin/pip3", "pip"),
    ("usr/local/bin/python", "python3"),
    ("usr/local/bin/uv", "poetry"),
)


def tool_scripts(*, strict: bool) -> tuple[tuple[str, str], ...]:
    """(path in the rootfs, script text) of the tools both bases have, in one mode."""
    return tuple((path, render(template, strict=strict)) for path, template in _TOOLS)


def tools_digest(*, strict: bool) -> str:
    """sha256 of every path, script and link the tools of one mode put in a rootfs: a cache key for a base."""
    h = hashlib.sha256()
    for path, text in tool_scripts(strict=strict):
        h.update(f"file {path} 0755 {len(text.encode())}\n".encode() + text.encode())
    for path, target in TOOL_LINKS:
        h.update(f"link {path} {target}\n".encode())
    return h.hexdigest()


def write_tools(root: Path, *, strict: bool) -> str:
    """Write the tools of one mode into the rootfs at ``root`` and return ``tools_digest``. A path that is there
    already is an error: a stub must never stand in for a real tool of the base."""
    entries = [path for path, _ in tool_scripts(strict=strict)] + [path for path, _ in TOOL_LINKS]
    there = [path for path in entries if os.path.lexists(root / path)]
    if there:
        raise FileExistsError(f"{', '.join(there)} exist(s) in {root}: not replacing with a stub")
    for path, text in tool_scripts(strict=strict):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text.encode())
        os.chmod(root / path, 0o755)
    for path, target in TOOL_LINKS:
        os.symlink(target, root / path)
    return tools_digest(strict=strict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m dockerfix.refactor.images.stubs",
                                     description="Write the stub tools into a rootfs and print their digest.")
    parser.add_argument("--strict", action="store_true",
                        help="the Debian base's stubs, which fail with exit 3 on what they do not model")
    parser.add_argument("root", type=Path, help="the rootfs directory to write into")
    args = parser.parse_args(argv)
    try:
        print(write_tools(args.root, strict=args.strict))
    except OSError as exc:
        print(f"stubs: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
