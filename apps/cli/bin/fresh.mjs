// Whether the CLI bundle of this checkout is up to date: its manifest (apps/cli/dist/bundle.json,
// written by scripts/cli-bundle.ts) lists every input with the mtime and size it was bundled
// with; one stat per input, about 2 ms for the hundred or so. node:fs through
// getBuiltinModule: importing it as ESM builds its namespace, which loads its promises and streams.
const { readFileSync, statSync } = process.getBuiltinModule('node:fs');

const DIST = new URL('../dist/', import.meta.url);

/**
 * The bundle's URL when it is up to date, else undefined (no bundle, or an input changed or went).
 * @param {URL} dist the bundle's folder (a URL ending in /)
 * @returns {string | undefined}
 */
export function bundleUrl(dist = DIST) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('bundle.json', dist), 'utf8'));
  } catch {
    return undefined;
  }
  for (const [file, [mtimeMs, size]] of Object.entries(manifest.inputs)) {
    const s = statSync(file, { throwIfNoEntry: false });
    if (!s || s.mtimeMs !== mtimeMs || s.size !== size) return undefined;
  }
  const bundle = new URL(manifest.bundle, dist);
  return statSync(bundle, { throwIfNoEntry: false }) ? bundle.href : undefined;
}
