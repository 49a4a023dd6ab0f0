#!/usr/bin/env node
// The `catchment` command of a checkout (`./run catchment`, `pnpm catchment`, the package's bin).
// Plain JavaScript: a TypeScript file here would load Node's type stripper, 30 ms of every start.
// It runs the prebuilt bundle (scripts/cli-bundle.ts) when every input is as it was bundled,
// rebuilds it when one changed, and runs the sources when it cannot be built (or when
// CATCHMENT_CLI_SOURCES is set), so what runs is never older than the sources.
// Node's builtins through getBuiltinModule, not imported: an ESM import builds each one's
// namespace, which loads more of Node (node:child_process: net, dgram, streams) at every start.
import { bundleUrl } from './fresh.mjs';

const { existsSync } = process.getBuiltinModule('node:fs');
const { enableCompileCache } = process.getBuiltinModule('node:module');
const { fileURLToPath } = process.getBuiltinModule('node:url');
const root = new URL('../../../', import.meta.url);
const sources = new URL('../src/main.ts', import.meta.url).href;
// Node's code cache across runs, for the bundle and the sources alike; keyed by content.
enableCompileCache(fileURLToPath(new URL('.cache/node-compile-cache', root)));

function rebuilt() {
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('scripts/cli-bundle.ts', root))], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status === 0) return bundleUrl();
  process.stderr.write(`catchment: could not rebuild the CLI bundle, running the sources:\n${r.stderr}`);
  return undefined;
}

const url = process.env.CATCHMENT_CLI_SOURCES ? undefined : (bundleUrl() ?? rebuilt());
try {
  await import(url ?? sources);
} catch (err) {
  // Another run replaced the bundle between the check and the import.
  if (!url || err?.code !== 'ERR_MODULE_NOT_FOUND' || existsSync(fileURLToPath(url))) throw err;
  await import(sources);
}
