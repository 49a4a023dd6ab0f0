#!/usr/bin/env bash
# Builds the XDP objects into bpf/build/ (gitignored). Called by `pnpm build:bpf`, by the
# edge agent when no object is given, and by the tests: a clean checkout builds itself.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/build"
mkdir -p "$out"
arch_inc="/usr/include/$(uname -m)-linux-gnu"
cflags=(-O2 -g -target bpf -Wall -Werror -Wno-unused-function -I"$here/include" -I"$arch_inc")
for src in catchment_dsr xdp_pass; do
  obj="$out/$src.o"
  if [ ! -f "$obj" ] || [ -n "$(find "$here" -maxdepth 2 -name '*.[ch]' -newer "$obj" -print -quit)" ]; then
    clang "${cflags[@]}" -c "$here/$src.c" -o "$obj.$$.tmp"
    mv "$obj.$$.tmp" "$obj"
  fi
done
# Benchmark comparison only: the same program without next-hop caching.
nocache="$out/catchment_dsr_nocache.o"
if [ ! -f "$nocache" ] || [ "$out/catchment_dsr.o" -nt "$nocache" ]; then
  clang "${cflags[@]}" -DNEXTHOP_TTL_NS=0ULL -c "$here/catchment_dsr.c" -o "$nocache.$$.tmp"
  mv "$nocache.$$.tmp" "$nocache"
fi
# Native helper for the benchmark: BPF_PROG_TEST_RUN in a loop with a fresh packet per run.
bench="$out/xdp_bench"
if [ ! -x "$bench" ] || [ "$here/tools/xdp_bench.c" -nt "$bench" ]; then
  cc -O2 -Wall -o "$bench.$$.tmp" "$here/tools/xdp_bench.c" -lbpf
  mv "$bench.$$.tmp" "$bench"
fi
echo "$out"
