/**
 * `node scripts/cli-bundle.ts`: the `catchment` command of a checkout as one prebuilt JavaScript
 * file (apps/cli/dist/), so an API-client command starts without type-stripping and resolving
 * some fifty modules. Built by scripts/setup.sh, and again by apps/cli/bin/catchment.mjs when
 * one of its inputs changed; that launcher runs it only while it is up to date.
 *
 * What runs from the bundle is what API-client commands load: the CLI's own modules, commander,
 * yaml, dnsz, @catchment/api-client and the version. Every other workspace module stays
 * external, imported from its TypeScript source as before: the server packages, and the CLI's
 * modules that import them (start, migrate, token bootstrap, simulate, lab), so those commands
 * run one copy of each module, exactly the code they ran without the bundle.
 *
 * apps/cli/dist/bundle.json names the bundle and, per input file, its mtime and size; it is
 * written last, by rename, so a launcher reads either the old build or the new one.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { nodeBundleOptions, selfLocating } from './release/bundle.ts';

const root = path.resolve(import.meta.dirname, '..');
export const DIST = path.join(root, 'apps/cli/dist');

// Workspace code bundled with the CLI: what its API-client commands need, and nothing that
// loads the server packages.
const CLIENT = ['apps/cli/src/', 'packages/api-client/src/', 'packages/core/src/version.ts'].map((p) =>
  path.join(root, p),
);
const inClient = (file: string) => CLIENT.some((c) => file === c || (c.endsWith('/') && file.startsWith(c)));
const isWorkspaceTs = (file: string) =>
  file.startsWith(root + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`) && file.endsWith('.ts');

// The value imports (not `import type`) of workspace packages that a module states statically.
const WORKSPACE_IMPORT = /^(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s+'(@catchment\/[^']+)'/gm;

/** Workspace modules outside CLIENT, and client modules that import them, stay external (their source). */
function serverModulesExternal(): Plugin {
  const external = new Map<string, boolean>();
  return {
    name: 'catchment-server-modules-external',
    setup(b) {
      const isExternal = async (file: string, resolveDir: string): Promise<boolean> => {
        if (!isWorkspaceTs(file)) return false;
        if (!inClient(file)) return true;
        let known = external.get(file);
        if (known === undefined) {
          external.set(file, false);
          known = false;
          for (const m of readFileSync(file, 'utf8').matchAll(WORKSPACE_IMPORT)) {
            const r = await b.resolve(m[1]!, { kind: 'import-statement', resolveDir, pluginData: { inner: true } });
            if (r.errors.length === 0 && isWorkspaceTs(r.path) && !inClient(r.path)) known = true;
          }
          external.set(file, known);
        }
        return known;
      };
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.inner || args.kind === 'entry-point') return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { inner: true },
        });
        if (r.errors.length > 0 || r.external) return undefined;
        if (await isExternal(r.path, path.dirname(r.path))) return { path: pathToFileURL(r.path).href, external: true };
        return undefined;
      });
    },
  };
}

function atomicWrite(file: string, contents: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

/**
 * A Node builtin imported as ESM costs at each start: Node fills the module's namespace by
 * reading every export, and the lazy ones load more of Node (node:http: undici and zlib for
 * WebSocket; node:util: parseArgs and the diff; node:fs: its promises and streams). Through
 * require (the banner's) no namespace is built: about 25 ms less per command.
 */
function builtinsByRequire(): Plugin {
  return {
    name: 'catchment-builtins-by-require',
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) =>
        args.namespace === 'by-require' ? undefined : { path: args.path, namespace: 'by-require' },
      );
      b.onLoad({ filter: /.*/, namespace: 'by-require' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

export interface BundleManifest {
  /** The bundle's file name in DIST. */
  bundle: string;
  /** Every input (absolute path) with the mtime (ms) and size it had when bundled. */
  inputs: Record<string, [number, number]>;
}

/** Builds the bundle into DIST and writes its manifest; removes older bundles. */
export async function bundleCli(): Promise<BundleManifest> {
  const result = await build({
    ...nodeBundleOptions(''),
    absWorkingDir: root,
    entryPoints: { catchment: path.join(root, 'apps/cli/src/main.ts') },
    // One file: replacing it cannot leave a running command without a chunk it loads later.
    entryNames: '[name]-[hash]',
    outdir: DIST,
    // Written below, each file by rename: a run starting meanwhile never reads half a file.
    write: false,
    // The source tree is the mirror: self-locating code keeps its own place.
    plugins: [
      builtinsByRequire(),
      serverModulesExternal(),
      selfLocating((file) => `new URL(${JSON.stringify(pathToFileURL(file).href)})`),
    ],
  });
  mkdirSync(DIST, { recursive: true });
  for (const f of result.outputFiles) atomicWrite(f.path, f.contents);
  const out = result.outputFiles.map((f) => f.path).find((f) => f.endsWith('.mjs'));
  if (!out) throw new Error('cli-bundle: esbuild made no .mjs');
  const inputs: BundleManifest['inputs'] = {};
  // Files only: a plugin's virtual module is named `namespace:path`.
  const files = Object.keys(result.metafile.inputs).filter((f) => !/^[\w-]+:/.test(f));
  const sources = [...files, 'scripts/cli-bundle.ts', 'scripts/release/bundle.ts'];
  for (const rel of sources) {
    const file = path.resolve(root, rel);
    const s = statSync(file);
    inputs[file] = [s.mtimeMs, s.size];
  }
  const manifest: BundleManifest = { bundle: path.basename(out), inputs };
  atomicWrite(path.join(DIST, 'bundle.json'), `${JSON.stringify(manifest)}\n`);
  for (const f of readdirSync(DIST)) {
    if (f.startsWith('catchment-') && !f.startsWith(manifest.bundle) && !f.endsWith('.tmp'))
      rmSync(path.join(DIST, f), { force: true });
  }
  return manifest;
}

if (import.meta.main) {
  const m = await bundleCli();
  console.log(`cli-bundle: ${path.relative(root, path.join(DIST, m.bundle))} (${Object.keys(m.inputs).length} inputs)`);
}
