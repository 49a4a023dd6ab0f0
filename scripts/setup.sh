#!/usr/bin/env bash
# Gives the project Node 24 and pnpm (from the npm registry, into .tools/), then
# installs the workspace. Safe to run again: it does nothing that is already done.
#   --if-stale   return at once (no Node started) when no file it installs or builds from
#                changed since its last complete run: how `./run catchment` calls it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CATCHMENT_ROOT"

stamp=.tools/setup.stamp
inputs=(package.json pnpm-lock.yaml apps/*/package.json packages/*/package.json scripts/setup.sh scripts/env.sh
  packages/udp-batch/native packages/udp-batch/binding.gyp packages/ui/app packages/ui/src)
if [ "${1:-}" = --if-stale ] && [ -f "$stamp" ] && [ -f node_modules/.modules.yaml ] &&
  [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  exit 0
fi

NODE_VERSION=24.21.0
PNPM_VERSION=10.34.8
tools="$CATCHMENT_ROOT/.tools"

have() { "$tools/node_modules/.bin/$1" --version 2>/dev/null; }
if [ "$(have node)" != "v$NODE_VERSION" ] || [ "$(have pnpm)" != "$PNPM_VERSION" ]; then
  if ! command -v npm >/dev/null; then
    echo "setup: npm is needed to fetch Node $NODE_VERSION and pnpm $PNPM_VERSION from the npm registry, and it is not on PATH" >&2
    exit 1
  fi
  echo "setup: installing Node $NODE_VERSION and pnpm $PNPM_VERSION into .tools/ (npm registry)"
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"private":true}' >"$tools/package.json"
  if ! npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
      "node@$NODE_VERSION" "pnpm@$PNPM_VERSION" >&2; then
    echo "setup: could not install Node $NODE_VERSION from the npm registry (package 'node'); is the registry reachable?" >&2
    exit 1
  fi
  if [ "$(have node)" != "v$NODE_VERSION" ]; then
    echo "setup: .tools/node_modules/.bin/node is not Node $NODE_VERSION after install; see the npm output above" >&2
    exit 1
  fi
fi

# Any package.json: a workspace package's bin or dependencies change what pnpm links.
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ] ||
  [ -n "$(find package.json apps/*/package.json packages/*/package.json -newer node_modules/.modules.yaml -print -quit)" ]; then
  pnpm install --frozen-lockfile --reporter=append-only
fi

# The DNS server's batched UDP I/O addon (pnpm install builds it; this rebuilds it when its
# sources changed). Optional: without a compiler the server falls back to dgram and says so.
node packages/udp-batch/src/build.ts --optional

# The operator's dashboard (packages/ui): bundled once here, served by the API under /ui;
# nothing is fetched when it runs.
node packages/ui/src/build.ts

# The `catchment` command's prebuilt bundle (apps/cli/bin/catchment.mjs runs it while it is up
# to date, and rebuilds it when a source changed).
node scripts/cli-bundle.ts

touch "$stamp"
