#!/usr/bin/env bash
# dockerd.sh: a private Docker daemon with BuildKit for dockerfix's build tests.
#
# Why: the production builder is BuildKit. Debian bookworm's docker.io (20.10) ships a BuildKit that knows neither
# heredocs (`RUN <<EOF`) nor `COPY --link`, and buildah 1.28 knows neither either, so samples that use them can only
# be built with a newer daemon. Debian trixie's Docker 26.1.5 (docker.io, docker-cli, docker-buildx 0.13) runs on
# bookworm with bookworm's containerd, runc, tini and iptables.
#
# Usage:
#   dockerd.sh install      install Docker 26.1.5 into $DOCKERFIX_DOCKER_PREFIX (default /opt/dockerfix-docker);
#                           a cache: a second call returns at once.
#   dockerd.sh start DIR    start a private dockerd whose whole state lives in DIR (keep DIR short: unix socket
#                           paths under it must stay below ~108 bytes); prints shell `export` lines, so:
#                             eval "$(tests/builders/dockerd.sh start /tmp/dfd)"
#                             docker build --network=none -t localhost/x CONTEXT
#   dockerd.sh stop DIR     stop that daemon, unmount what is left under DIR and remove DIR.
#
# The system is left alone: the system's apt sources and lists are not touched (trixie is read through a private
# sources list and private lists), the system's /var/lib/docker, /run/docker.sock and networks are not used, and
# the client config (cli-plugins) lives in the prefix, not in ~/.docker.
#
# Environment:
#   DOCKERFIX_DOCKER_PREFIX   install prefix (default /opt/dockerfix-docker)
#   DOCKERFIX_DOCKER_MIRROR   Debian mirror (default: the one apt already uses for bookworm)
#   DOCKERFIX_DOCKERD_TIMEOUT seconds `start` waits for the daemon to answer (default 60)
#
# Building with the daemon: use `docker build --network=none` (or `--network=host` when a step needs the network).
# The daemon runs with --bridge=none, so it has no default network and a plain `docker build` fails with
# "network bridge not found". A `# syntax=` line makes BuildKit pull a frontend image from a registry: not possible
# without network; the built-in frontend already knows heredocs and --link.
set -euo pipefail

PREFIX=${DOCKERFIX_DOCKER_PREFIX:-/opt/dockerfix-docker}
VERSION=26.1.5
TRIXIE_PACKAGES=(docker.io docker-cli docker-buildx)
BOOKWORM_DEPS=(containerd runc tini iptables)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "dockerd.sh: $*" >&2; exit 1; }
# apt_mirror; found next to this script, so `install` works from any directory.
source "$(dirname "${BASH_SOURCE[0]}")/mirror.sh"

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# What `install` leaves behind; the stamp is written last, so a half-done install is redone.
stamp=$PREFIX/.dockerfix-docker-$VERSION
complete() {
  [ -f "$stamp" ] && [ -x "$PREFIX/usr/sbin/dockerd" ] && [ -x "$PREFIX/usr/bin/docker" ] \
    && [ -x "$PREFIX/docker-config/cli-plugins/docker-buildx" ]
}

cmd_install() {
  local missing=() p
  for p in "${BOOKWORM_DEPS[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    # The daemon's runtime pieces come from bookworm itself; update the lists only if the install fails on them.
    echo "dockerd.sh: installing ${missing[*]} from bookworm" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
             "${missing[@]}" >&2; }
  fi
  complete && return 0
  # One install at a time (parallel test sessions share the prefix); whoever waited finds it done.
  mkdir -p "$(dirname "$PREFIX")"
  exec 8>"$PREFIX.lock"
  flock 8
  complete && return 0

  local mirror
  mirror=$(apt_mirror "${DOCKERFIX_DOCKER_MIRROR:-}")
  # work and new are global: the EXIT trap runs after this function has returned.
  work=$(mktemp -d /tmp/dockerfix-docker-apt.XXXXXX)
  new=$PREFIX.new.$$
  trap 'rm -rf "$work" "$new"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  echo "deb [signed-by=$KEYRING] $mirror trixie main" > "$work/sources.list"
  # Dir::Etc::sourcelist / sourceparts=-: read only our one-line list, not /etc/apt/sources.list(.d);
  # Dir::State::Lists: keep trixie's indexes out of /var/lib/apt/lists; Dir::Cache: keep the package cache and
  # downloads out of /var/cache/apt (apt would otherwise rebuild the system's pkgcache.bin from trixie's lists).
  # APT::Sandbox::User=root: the private dirs are root-only (mktemp), so download as root instead of as _apt.
  local apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
                  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
                  -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  echo "dockerd.sh: downloading ${TRIXIE_PACKAGES[*]} from $mirror trixie" >&2
  apt-get "${apt_opts[@]}" update >&2
  (cd "$work/debs" && apt-get "${apt_opts[@]}" download "${TRIXIE_PACKAGES[@]}" >&2)

  rm -rf "$new"; mkdir -p "$new"
  local deb version
  for deb in "$work"/debs/*.deb; do
    version=$(dpkg-deb -f "$deb" Version)
    case "$(dpkg-deb -f "$deb" Package) $version" in
      "docker.io $VERSION"*|"docker-cli $VERSION"*|"docker-buildx "*) ;;
      *) die "trixie serves $(dpkg-deb -f "$deb" Package) $version, expected Docker $VERSION" ;;
    esac
    dpkg-deb -x "$deb" "$new"
  done
  # docker-init (for `docker run --init`) is a relative link to tini-static, which is bookworm's tini package.
  ln -sfn /usr/bin/tini-static "$new/usr/bin/docker-init"
  # The client looks for plugins in $DOCKER_CONFIG/cli-plugins; `start` exports DOCKER_CONFIG=PREFIX/docker-config,
  # so neither ~/.docker nor /usr/libexec is touched. The link is relative: the prefix may be moved.
  mkdir -p "$new/docker-config/cli-plugins"
  ln -s ../../usr/libexec/docker/cli-plugins/docker-buildx "$new/docker-config/cli-plugins/docker-buildx"
  "$new/usr/sbin/dockerd" --version >&2
  "$new/usr/bin/docker" --version >&2
  "$new/docker-config/cli-plugins/docker-buildx" version >&2
  touch "$new/.dockerfix-docker-$VERSION"
  # Atomic as far as readers go: the prefix appears whole or not at all.
  mkdir -p "$(dirname "$PREFIX")"
  rm -rf "$PREFIX.old.$$"
  [ ! -e "$PREFIX" ] || mv "$PREFIX" "$PREFIX.old.$$"
  mv "$new" "$PREFIX"
  rm -rf "$PREFIX.old.$$"
}

absdir() { case "$1" in /*) echo "${1%/}" ;; *) echo "$PWD/${1%/}" ;; esac; }

# Refuse to remove a directory this script did not make.
check_dir() {
  [ -n "$1" ] && [ "$1" != / ] || die "refusing DIR '$1'"
  case "$1" in *[[:space:]]*) die "DIR must not contain blanks: $1" ;; esac
}

cmd_start() {
  [ $# -eq 1 ] || die "usage: dockerd.sh start DIR"
  local dir pid
  dir=$(absdir "$1")
  check_dir "$dir"
  complete || die "Docker $VERSION is not installed in $PREFIX: run dockerd.sh install first"
  # The longest socket dockerd's own containerd makes under DIR; sun_path holds 108 bytes including the NUL.
  local longest=$dir/exec/containerd/containerd.sock.ttrpc
  [ ${#longest} -lt 108 ] || die "DIR is too long for unix sockets (${#longest} bytes in $longest): use a shorter DIR"
  if [ -f "$dir/docker.pid" ] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then
    die "a dockerd already runs for $dir (pid $(cat "$dir/docker.pid"))"
  fi
  mkdir -p "$dir"
  [ -z "$(ls -A "$dir")" ] || [ -f "$dir/dockerd.log" ] || die "$dir is not empty and not a dockerd.sh directory"
  local sock=$dir/docker.sock
  # --data-root/--exec-root/-H/--pidfile: all state, the socket and the pid under DIR, nothing in /var/lib/docker or
  #   /run; with no --containerd, dockerd starts its own containerd with its state under DIR/exec.
  # --bridge=none: no docker0 bridge (no network setup needed, none wanted); builds use --network=none or host.
  # --iptables=false --ip-masq=false --ip6tables=false: leave the host's firewall rules alone.
  # setsid + nohup: the daemon outlives this script and the caller's terminal; stdout/stderr go to the log, so
  #   `$(dockerd.sh start DIR)` returns.
  PATH=$PREFIX/usr/sbin:$PREFIX/usr/bin:$PATH setsid nohup "$PREFIX/usr/sbin/dockerd" \
    --data-root "$dir/root" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$dir/docker.pid" \
    --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    </dev/null >>"$dir/dockerd.log" 2>&1 &
  pid=$!
  local timeout=${DOCKERFIX_DOCKERD_TIMEOUT:-60} start=$SECONDS
  until DOCKER_CONFIG=$PREFIX/docker-config "$PREFIX/usr/bin/docker" -H "unix://$sock" info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "dockerd.sh: dockerd exited during startup; end of $dir/dockerd.log:" >&2
      tail -n 30 "$dir/dockerd.log" >&2; exit 1
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      echo "dockerd.sh: dockerd did not answer within ${timeout}s; end of $dir/dockerd.log:" >&2
      tail -n 30 "$dir/dockerd.log" >&2
      kill "$pid" 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
  # PATH: the prefix's 26.1.5 client, not another docker on PATH; DOCKER_CONFIG: where its buildx plugin is.
  printf 'export DOCKER_HOST=unix://%s\n' "$sock"
  printf 'export PATH=%s/usr/bin:"$PATH"\n' "$PREFIX"
  printf 'export DOCKER_CONFIG=%s/docker-config\n' "$PREFIX"
}

# Wait up to $2 seconds for pid $1 to exit.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

stop_pid() {  # pid name
  kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait_gone "$1" 30 && return 0
  echo "dockerd.sh: $2 (pid $1) did not stop on SIGTERM; sending SIGKILL" >&2
  kill -KILL "$1" 2>/dev/null || true
  wait_gone "$1" 10 || die "$2 (pid $1) does not exit"
}

cmd_stop() {
  [ $# -eq 1 ] || die "usage: dockerd.sh stop DIR"
  local dir pid p
  dir=$(absdir "$1")
  check_dir "$dir"
  [ -e "$dir" ] || return 0
  [ -f "$dir/dockerd.log" ] || [ -f "$dir/docker.pid" ] || die "$dir was not made by dockerd.sh start; not removing it"
  if [ -f "$dir/docker.pid" ]; then stop_pid "$(cat "$dir/docker.pid")" dockerd; fi
  # dockerd stops the containerd it started; should it have died first, stop that containerd and its shims too
  # (found by their pid file and by the socket address under DIR, so nothing else is touched).
  if [ -f "$dir/exec/containerd/containerd.pid" ]; then stop_pid "$(cat "$dir/exec/containerd/containerd.pid")" containerd; fi
  for p in /proc/[0-9]*; do
    case "$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")" in
      *containerd-shim*" -address $dir/exec/"*) stop_pid "${p#/proc/}" containerd-shim ;;
    esac
  done
  # Mounts left under DIR (overlay layers of containers, netns, the exec root), deepest first.
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" || echo "dockerd.sh: cannot unmount $m" >&2
  done < <(awk -v d="$dir/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) { print $5 }' /proc/self/mountinfo \
           | awk '{ print length($0), $0 }' | sort -rn | cut -d' ' -f2-)
  rm -rf --one-file-system "$dir"
}

case "${1:-}" in
  install) shift; [ $# -eq 0 ] || die "usage: dockerd.sh install"; cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: dockerd.sh install | start DIR | stop DIR" >&2; exit 2 ;;
esac
