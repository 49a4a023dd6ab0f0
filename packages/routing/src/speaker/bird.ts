import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { communitySetKey, formatCommunity } from '../community.ts';
import type { DesiredAnnouncement } from '../desired.ts';
import { assertBirdOk, birdCommand, birdText } from './bird-control.ts';
import { parseBirdProtocols, parseBirdRoutes } from './bird-parse.ts';
import { type BirdRenderOptions, birdTransitFilter, renderBirdConfig } from './bird-render.ts';
import { diffRoutes, isEmptyDiff } from './diff.ts';
import {
  type ApplyResult,
  type RouteDiff,
  type SessionState,
  type Speaker,
  SpeakerError,
  type SpeakerRoute,
} from './types.ts';

const run = promisify(execFile);

export interface BirdSpeakerOptions extends BirdRenderOptions {
  /** BIRD's control socket (bird -s). */
  socket: string;
  /** The include file this adapter owns; the operator's bird.conf includes it. */
  includeFile: string;
  /** The operator's main config, checked with `bird -p -c` before every configure. */
  mainConfig: string;
  /** Path of the bird binary (default `bird` on PATH). */
  birdBinary?: string;
  /** BGP protocols whose exported routes confirm an apply (default: every established BGP session). */
  peers?: string[];
  /** How long to wait for BIRD to show the new routes after configure (default 2 s). */
  confirmTimeoutMs?: number;
}

/**
 * BIRD 2 adapter: renders the desired set into the include file, checks it with
 * `bird -p`, applies it with `configure` (atomic: BIRD refuses a broken file and keeps
 * running the old one; the adapter then restores the old file too), and reads the
 * originated and exported routes back to confirm. Only `configure` changes routes:
 * `disable`/`enable` would be undone by the next configure (one path only).
 */
export class BirdSpeaker implements Speaker {
  readonly kind = 'bird';
  readonly #o: BirdSpeakerOptions;

  constructor(opts: BirdSpeakerOptions) {
    this.#o = opts;
  }

  get protocolNames(): [string, string] {
    const p = this.#o.protocolPrefix ?? 'catchment';
    return [`${p}_v4`, `${p}_v6`];
  }

  async #cmd(command: string): Promise<string[]> {
    return assertBirdOk(command, await birdCommand(this.#o.socket, command)).map((l) => l.text);
  }

  async originated(): Promise<SpeakerRoute[]> {
    const out: SpeakerRoute[] = [];
    for (const proto of this.protocolNames) {
      const command = `show route protocol ${proto} all`;
      const lines = await birdCommand(this.#o.socket, command);
      const last = lines[lines.length - 1];
      // Before the first apply the include file may not be loaded: BIRD does not know the name yet.
      if (last && last.code >= 8000 && /CF_SYM_UNDEFINED/.test(last.text)) continue;
      for (const r of parseBirdRoutes(assertBirdOk(command, lines))) {
        if (r.protocol === proto) out.push({ prefix: r.prefix, communities: r.communities });
      }
    }
    return out;
  }

  async exported(peer: string): Promise<SpeakerRoute[]> {
    return (await this.#exported(peer)).routes;
  }

  /** Routes exported to `peer`, and the families (tables) the peer has a channel for. */
  async #exported(peer: string): Promise<{ families: Set<number>; routes: SpeakerRoute[] }> {
    const routes: SpeakerRoute[] = [];
    const families = new Set<number>();
    for (const [family, table] of [
      [4, 'master4'],
      [6, 'master6'],
    ] as const) {
      const lines = await birdCommand(this.#o.socket, `show route table ${table} export ${peer} all`);
      const last = lines[lines.length - 1];
      // A peer without a channel for this table answers "No valid tables": nothing exported there.
      if ((last && last.code >= 8000) || lines.some((l) => /No valid tables/.test(l.text))) continue;
      families.add(family);
      for (const r of parseBirdRoutes(lines)) routes.push({ prefix: r.prefix, communities: r.communities });
    }
    return { families, routes };
  }

  async sessions(): Promise<SessionState[]> {
    const lines = assertBirdOk('show protocols', await birdCommand(this.#o.socket, 'show protocols'));
    return parseBirdProtocols(lines);
  }

  async plan(desired: DesiredAnnouncement[]): Promise<RouteDiff> {
    return diffRoutes(await this.originated(), desired);
  }

  render(desired: DesiredAnnouncement[]): string {
    return renderBirdConfig(desired, this.#o);
  }

  /** `bird -p`: parse the main config with the include file as it is on disk now. */
  async check(): Promise<void> {
    try {
      await run(this.#o.birdBinary ?? 'bird', ['-p', '-c', this.#o.mainConfig], { timeout: 30_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new SpeakerError(
        'SPEAKER_CONFIG_REFUSED',
        `bird -p refused the configuration: ${(err.stderr || err.message).trim()}`,
        err.stderr,
      );
    }
  }

  async #write(text: string): Promise<void> {
    const tmp = `${this.#o.includeFile}.tmp-${process.pid}`;
    await writeFile(tmp, text);
    await rename(tmp, this.#o.includeFile);
  }

  async apply(desired: DesiredAnnouncement[]): Promise<ApplyResult> {
    const started = performance.now();
    const text = this.render(desired);
    const old = await readFile(this.#o.includeFile, 'utf8').catch(() => undefined);
    const before = await this.plan(desired);
    const inLine = isEmptyDiff(before);
    if (old === text && inLine) {
      return { changed: false, diff: before, confirmed: true, durationMs: performance.now() - started };
    }
    await this.#write(text);
    try {
      await this.check();
      if (inLine && structure(old) === structure(text)) {
        // Same routes, new file (e.g. the snapshot version in the header): keep the file
        // current for BIRD's next start without reconfiguring a daemon that is already right.
        return { changed: false, diff: before, confirmed: true, durationMs: performance.now() - started };
      }
      const reply = await this.#cmd('configure');
      if (!reply.some((l) => /Reconfigur/.test(l))) {
        throw new SpeakerError('SPEAKER_COMMAND_FAILED', `unexpected reply to configure: ${reply.join(' / ')}`);
      }
    } catch (e) {
      // Keep file and daemon in agreement: BIRD still runs the old config.
      if (old === undefined) await this.#write(renderBirdConfig([], this.#o));
      else await this.#write(old);
      throw e;
    }
    const confirmed = await this.#confirm(desired);
    return { changed: true, diff: before, confirmed, durationMs: performance.now() - started };
  }

  /** Polls until the originated routes, and the routes exported to each established peer, match. */
  async #confirm(desired: DesiredAnnouncement[]): Promise<boolean> {
    const deadline = Date.now() + (this.#o.confirmTimeoutMs ?? 2000);
    const want = new Map(
      desired
        .filter((d) => d.state === 'announced')
        .map((d) => [
          d.prefix.text,
          {
            family: d.prefix.family,
            key: communitySetKey(d.communities),
            byFilter: new Map(
              [...(d.transitCommunities ?? [])].map(([t, list]) => [
                birdTransitFilter(t, this.#o.protocolPrefix),
                communitySetKey(list),
              ]),
            ),
          },
        ]),
    );
    const mine = new Set(desired.map((d) => d.prefix.text));
    for (;;) {
      if (isEmptyDiff(diffRoutes(await this.originated(), desired)) && (await this.#exportsMatch(want, mine)))
        return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Export filter names of a BGP session's channels (`show protocols all`). */
  async #outputFilters(peer: string): Promise<Set<string>> {
    const lines = await birdCommand(this.#o.socket, `show protocols all "${peer}"`);
    return new Set(lines.flatMap((l) => /Output filter:\s+(\S+)/.exec(l.text)?.[1] ?? []));
  }

  async #exportsMatch(
    want: Map<string, { family: number; key: string; byFilter: Map<string, string> }>,
    mine: Set<string>,
  ): Promise<boolean> {
    const sessions = await this.sessions();
    const peers = this.#o.peers ?? sessions.map((s) => s.name);
    for (const peer of peers) {
      if (!sessions.find((s) => s.name === peer)?.established) continue;
      const { families, routes } = await this.#exported(peer);
      const filters = await this.#outputFilters(peer);
      const exported = new Map(routes.map((r) => [r.prefix.text, r.communities]));
      for (const [prefix, { family, key, byFilter }] of want) {
        if (!families.has(family)) continue;
        const got = exported.get(prefix);
        // Export filters may add communities of their own: every desired one must be there,
        // with the transit's own ones on a session that uses that transit's filter.
        if (!got) return false;
        const have = new Set(got.map(formatCommunity));
        const needed = [key, ...[...byFilter].filter(([f]) => filters.has(f)).map(([, k]) => k)]
          .join(' ')
          .split(' ')
          .filter(Boolean);
        if (!needed.every((c) => have.has(c))) return false;
      }
      for (const prefix of exported.keys()) if (mine.has(prefix) && !want.has(prefix)) return false;
    }
    return true;
  }

  /** Raw text of a BIRD command, for diagnostics. */
  async raw(command: string): Promise<string> {
    return birdText(await birdCommand(this.#o.socket, command));
  }

  async close(): Promise<void> {}
}

/** The include file without its comments: equal structures need no `configure`. */
function structure(text: string | undefined): string | undefined {
  return text
    ?.split('\n')
    .map((l) => l.replace(/\s*#.*$/, ''))
    .filter((l) => l.trim() !== '')
    .join('\n');
}
