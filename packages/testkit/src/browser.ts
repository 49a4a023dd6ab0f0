import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';
import { tempDir } from './tmp.ts';

/** Debian's Chromium (scripts/test-deps.sh installs it); playwright-core never downloads one. */
export const CHROMIUM = process.env.CATCHMENT_CHROMIUM ?? '/usr/bin/chromium';

export interface RunningBrowser {
  /** The browser's one context, on a fresh profile; each page is a tab with its own session storage. */
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium on a fresh profile (its own --user-data-dir, removed at close), with
 * everything that would reach outside (component updates, sync, background networking) off.
 */
export async function launchChromium(
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<RunningBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/test-deps.sh (Debian package chromium)`);
  const profile = await tempDir('catchment-chromium-');
  try {
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: opts.viewport ?? { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        await profile.remove();
      },
    };
  } catch (err) {
    await profile.remove();
    throw err;
  }
}
