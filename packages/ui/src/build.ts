import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { UI_DIST_DIR } from './index.ts';

/**
 * Bundles app/main.ts (Preact, htm, uPlot, d3-geo and the Natural Earth outlines from
 * world-atlas, all from node_modules) into dist/ with content-hashed names, so the served
 * dashboard fetches nothing but its own files and the API.
 */
const APP = fileURLToPath(new URL('../app/', import.meta.url));

export async function buildUi(outDir = UI_DIST_DIR): Promise<string[]> {
  const result = await build({
    entryPoints: { app: `${APP}main.ts` },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    write: false,
    outdir: outDir,
    entryNames: '[name]-[hash]',
    loader: { '.json': 'json' },
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const names: string[] = [];
  for (const f of result.outputFiles) {
    await writeFile(f.path, f.contents);
    names.push(f.path.slice(outDir.length));
  }
  const js = names.find((n) => n.endsWith('.js'));
  const css = names.find((n) => n.endsWith('.css'));
  if (!js) throw new Error('ui build: esbuild produced no script');
  const template = await readFile(`${APP}index.html`, 'utf8');
  const html = template
    .replace('%SCRIPT%', js)
    .replace('%STYLE%', css ? `<link rel="stylesheet" href="${css}">` : '')
    .replace('%BUILD%', createHash('sha256').update(names.join()).digest('hex').slice(0, 12));
  await writeFile(`${outDir}index.html`, html);
  return [...names, 'index.html'];
}

if (import.meta.main) {
  const files = await buildUi();
  console.log(`ui: built ${files.length} files into ${UI_DIST_DIR}`);
}
