# mirror.sh: sourced by debian-base.sh and dockerd.sh, which read apt's Debian mirror the same way.
#
# apt_mirror OVERRIDE: prints OVERRIDE when it is not empty (the caller's DOCKERFIX_*_MIRROR), else the mirror apt
# already uses for Debian bookworm itself (not the security archive): deb822 .sources first, then sources.list.
# Call it as $(apt_mirror ...): on failure it says why on stderr and returns 1.

apt_mirror() {
  if [ -n "${1:-}" ]; then echo "$1"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
      /^[[:space:]]*$/ { if (u != "" && s ~ /(^| )bookworm( |$)/) { print u; exit } u = s = ""; next }
      /^URIs:/ { u = $2 } /^Suites:/ { s = $0; sub(/^Suites:[[:space:]]*/, "", s) }
      END { if (u != "" && s ~ /(^| )bookworm( |$)/) print u }' | head -n 1)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
                             if ($(i + 1) == "bookworm") { print $i; exit } }' /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    echo "${0##*/}: cannot find the Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" >&2
    return 1
  fi
  echo "${uri%/}"
}
