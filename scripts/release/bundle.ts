import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';

/**
 * Bundles the `catchment` command (every part: API, DNS, controller, edge agent) and the DNS
 * server's answering worker into plain JavaScript under `lib`, so the installed release runs on
 * Node without type stripping (which Node refuses inside node_modules) and without node_modules.
 *
 * Code that finds its own files at run time (`import.meta.url`, `__dirname`: the migrations, the
 * demo configuration, the dashboard, the UDP addon, the XDP object, PGlite's WebAssembly,
 * swagger-ui's pages) keeps working because each such module is told the place it would have in
 * a mirror of the source tree under `lib` (`packages/db/src/migrate.js`,
 * `node_modules/@electric-sql/pglite/dist/index.js`), and those files are copied there
 * (scripts/release/assemble.ts). A workspace file keeps its path with `.js` for `.ts`; a package file keeps its
 * path below its package's name.
 */
export interface BundleResult {
  /** Packages (name → directory) whose code locates its own files: copied whole to lib/node_modules/<name>. */
  packages: Map<string, string>;
  /** How many source files went into the bundle (printed by scripts/release.ts). */
  inputs: number;
}

/** Where a source file sits in the mirror under lib, and the package directory it belongs to. */
export function mirrorOf(root: string, file: string): { rel: string; pkg?: { name: string; dir: string } } {
  const i = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (i < 0) return { rel: path.relative(root, file).replace(/\.ts$/, '.js') };
  const below = file.slice(i + '/node_modules/'.length).split(path.sep);
  const nameParts = below[0]!.startsWith('@') ? below.slice(0, 2) : below.slice(0, 1);
  const name = nameParts.join('/');
  return {
    rel: ['node_modules', ...below].join('/'),
    pkg: { name, dir: file.slice(0, i + '/node_modules/'.length) + nameParts.join(path.sep) },
  };
}

/**
 * At the top of every output file. The bundle is ESM: CommonJS dependencies that call require()
 * get Node's own. `__catchmentLib` is the mirror's root (`up` leads there from the output file's
 * directory): modules refer to it rather than to `import.meta`, which would make esbuild take a
 * CommonJS module for ESM.
 */
export const banner = (up: string) =>
  [
    "import { createRequire as __catchmentRequire } from 'node:module';",
    "import { fileURLToPath as __catchmentPath } from 'node:url';",
    'const require = __catchmentRequire(import.meta.url);',
    `const __catchmentLib = new URL(${JSON.stringify(up || './')}, import.meta.url);`,
  ].join('\n');

/**
 * Rewrites self-locating code (`import.meta.url`, `import.meta.dirname`, `__dirname`,
 * `__filename`) to the place `here(file)` gives: a JavaScript expression of a URL object.
 */
export function selfLocating(here: (file: string) => string): Plugin {
  return {
    name: 'catchment-self-locating',
    setup(b) {
      b.onLoad({ filter: /\.(ts|mts|js|mjs|cjs)$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const usesUrl = text.includes('import.meta.url') || text.includes('import.meta.dirname');
        const usesDirname =
          /\b__(dirname|filename)\b/.test(text) && !/\b(const|let|var)\s+__(dirname|filename)\b/.test(text);
        const loader = args.path.endsWith('.ts') || args.path.endsWith('.mts') ? 'ts' : 'js';
        if (!usesUrl && !usesDirname) return { contents: text, loader };
        const url = here(args.path);
        let contents = text
          .replaceAll('import.meta.dirname', `__catchmentPath(new URL('.', ${url})).replace(/\\/$/, '')`)
          .replaceAll('import.meta.url', `${url}.href`);
        if (usesDirname) {
          contents = `var __filename = __catchmentPath(${url}); var __dirname = __catchmentPath(new URL('.', ${url})).replace(/\\/$/, '');\n${contents}`;
        }
        return { contents, loader };
      });
    },
  };
}

/** Self-locating code finds its files at its mirror place under lib; their packages are noted for copying. */
function mirrorPlugin(root: string, packages: Map<string, string>): Plugin {
  return selfLocating((file) => {
    const { rel, pkg } = mirrorOf(root, file);
    if (pkg) {
      const seen = packages.get(pkg.name);
      if (seen && seen !== pkg.dir)
        throw new Error(`two versions of ${pkg.name} locate their files: ${seen}, ${pkg.dir}`);
      packages.set(pkg.name, pkg.dir);
    }
    return `new URL(${JSON.stringify(rel)}, __catchmentLib)`;
  });
}

/** What every Node bundle of Catchment is built with (the release's and the CLI's of a checkout). */
export const nodeBundleOptions = (up: string) =>
  ({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outExtension: { '.js': '.mjs' },
    banner: { js: banner(up) },
    // Loaded by path at run time, next to the bundle (see mirrorOf), never bundled.
    external: ['*.node'],
    // Module-level names (pino's, fastify's) show in logs and errors.
    keepNames: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  }) satisfies BuildOptions;

async function one(
  root: string,
  entry: Record<string, string>,
  outdir: string,
  up: string,
  packages: Map<string, string>,
) {
  return build({
    ...nodeBundleOptions(up),
    entryPoints: entry,
    outdir,
    splitting: true,
    // Beside the entry: the banner's way to lib is the same in every file of one build.
    chunkNames: '[name]-[hash]',
    plugins: [mirrorPlugin(root, packages)],
  });
}

/** Bundles into lib/: catchment.mjs (+ chunks/), apps/dns/src/worker.mjs and apps/cli/src/simulate/worker.mjs. */
export async function bundle(root: string, lib: string): Promise<BundleResult> {
  const packages = new Map<string, string>();
  const cli = await one(root, { catchment: path.join(root, 'apps/cli/src/main.ts') }, lib, '', packages);
  // Worker entries beside their source's place under lib (apps/cli/src/simulate/in-worker.ts names
  // worker.mjs in a release): the DNS answering thread and POST /v1/simulate's thread.
  const workers = [];
  for (const dir of ['apps/dns/src', 'apps/cli/src/simulate']) {
    const up = '../'.repeat(dir.split('/').length);
    workers.push(await one(root, { worker: path.join(root, dir, 'worker.ts') }, path.join(lib, dir), up, packages));
  }
  const inputs = new Set([cli, ...workers].flatMap((b) => Object.keys(b.metafile.inputs)));
  return { packages, inputs: inputs.size };
}
