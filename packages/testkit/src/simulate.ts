/**
 * A stand-in for the CLI's simulation runner in the API's own tests (testkit imports no app):
 * each run waits until `release()`, records what it was given, and returns an empty result.
 * The real runner (packages/sim with the controller) is tested through the CLI.
 */
export interface HeldRunner<M, C> {
  runner: (model: M, opts: { config?: C }) => Promise<HeldResult>;
  /** What each run was given, in order. */
  calls: { model: M; config: C | undefined }[];
  /** Resolves when a run has started (the Nth, from 1). */
  started(n: number): Promise<void>;
  /** Lets every waiting run finish. */
  release(): void;
}

export interface HeldResult {
  scenario: {
    configPath: string;
    service: string;
    durationS: number;
    blocks: number;
    resolvers: number;
    entries: number;
  };
  runs: never[];
}

export function heldRunner<M extends { configPath: string; durationS: number }, C>(): HeldRunner<M, C> {
  const calls: { model: M; config: C | undefined }[] = [];
  const waiting: (() => void)[] = [];
  const startWaits: { n: number; resolve: () => void }[] = [];
  let open = false;
  return {
    calls,
    runner: async (model, opts) => {
      calls.push({ model, config: opts.config });
      for (const w of startWaits.filter((s) => s.n <= calls.length)) w.resolve();
      if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
      return {
        scenario: {
          configPath: model.configPath,
          service: 'held',
          durationS: model.durationS,
          blocks: 0,
          resolvers: 0,
          entries: 0,
        },
        runs: [],
      };
    },
    started: (n) =>
      calls.length >= n ? Promise.resolve() : new Promise<void>((resolve) => startWaits.push({ n, resolve })),
    release() {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
  };
}
