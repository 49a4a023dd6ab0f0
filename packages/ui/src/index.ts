import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the built dashboard is (index.html and its assets), for a server to serve as static
 * files. Built by `node packages/ui/src/build.ts` (scripts/setup.sh runs it); the browser
 * source in app/ is never imported by Node.
 */
export const UI_DIST_DIR = fileURLToPath(new URL('../dist/', import.meta.url));

/** Whether the dashboard has been built (a server says how to build it when not). */
export function uiBuilt(): boolean {
  return existsSync(`${UI_DIST_DIR}index.html`);
}
