import { fromHexList, Tools } from './bpftool.ts';
import { Config, decodeStruct, MAPS } from './layout.ts';

/**
 * The DSR configuration the XDP program under `pinDir` reads now (a bpftool dump of the
 * pinned config map): what the data plane really does, for probes and diagnostics.
 * Undefined when nothing is pinned there.
 */
export async function readPinnedDsrConfig(
  pinDir: string,
  tools = new Tools(),
): Promise<{ enabled: number; fraction: number } | undefined> {
  try {
    const entries = await tools.json<{ key: string[]; value: string[] }[]>([
      'map',
      'dump',
      'pinned',
      `${pinDir}/maps/${MAPS.config.name}`,
    ]);
    const first = entries[0];
    if (!first) return undefined;
    const c = decodeStruct(Config, fromHexList(first.value));
    return { enabled: Number(c.enabled), fraction: Number(c.fraction) };
  } catch {
    return undefined;
  }
}
