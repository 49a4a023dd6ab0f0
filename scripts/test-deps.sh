#!/usr/bin/env bash
# Installs the real parts the test suite runs against (Debian packages) if any is missing.
set -euo pipefail
pkgs=(
  postgresql-15 dnsutils knot-dnsutils python3-dnspython unbound dnsperf
  bird2 gobgpd golang-github-osrg-gobgp-dev iproute2 ethtool
  g++ make python3
  clang llvm libbpf-dev bpftool xdp-tools linux-libc-dev gcc-multilib
  prometheus prometheus-alertmanager
  libmaxmind-db-writer-perl gdnsd curl
  bind9-dnsutils ldnsutils
  chromium fonts-dejavu-core zsh
  systemd binutils
  patroni etcd-server
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Daemons from these packages must not run as system services: tests start their own.
  for svc in bird gdnsd unbound prometheus prometheus-alertmanager gobgpd postgresql patroni etcd; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi
