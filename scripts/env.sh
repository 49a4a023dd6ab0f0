# Sourced by the project's scripts: puts the project's pinned Node 24 and pnpm
# (installed into .tools/ from the npm registry by scripts/setup.sh) first on PATH.
CATCHMENT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CATCHMENT_ROOT
export PATH="$CATCHMENT_ROOT/.tools/node_modules/.bin:$CATCHMENT_ROOT/node_modules/.bin:$PATH"
