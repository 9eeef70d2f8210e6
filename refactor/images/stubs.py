"""Stub scripts of the base image besides Python's: git, npm and the account tools (adduser, addgroup, useradd,
groupadd). Deterministic, like the Python stubs in ``pystubs``."""

from __future__ import annotations

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
