// The API under test for bench/auth.ts, in a process of its own so its CPU time can be read
// from /proc alone. BENCH_TREE names the source tree (another commit's, for a comparison run);
// default this one. Tokens: one admin, one for the single-prefix guesser, FLOOD for the many-prefix
// flood, one never used (first-use test). Sends {url, tokens} over IPC, then serves until killed.

const tree = process.env.BENCH_TREE ?? new URL('..', import.meta.url).pathname;
const FLOOD = Number(process.env.BENCH_FLOOD ?? 50);
const { createToken, startApi } = await import(`${tree}/apps/api/src/index.ts`);
const { migrate, openDatabase } = await import(`${tree}/packages/db/src/index.ts`);

process.env.CATCHMENT_LOG_LEVEL ??= 'silent';
const database = await openDatabase({ dataDir: 'memory' });
await migrate(database);
const make = async (name: string, role: string) => (await createToken(database.db, { name, role })).token as string;
const tokens = {
  admin: await make('bench-admin', 'admin'),
  guessed: await make('bench-guessed', 'viewer'),
  fresh: await make('bench-fresh', 'agent'),
  flood: [] as string[],
};
for (let i = 0; i < FLOOD; i++) tokens.flood.push(await make(`bench-flood-${i}`, 'viewer'));
// The operator limit is lifted (the bench measures authentication, not it); the failure limits
// and the verification gate keep their defaults, as a deployment has them.
const api = await startApi({ database, port: 0, rateLimit: { max: 1e9, timeWindowMs: 60_000 } });
process.send?.({ url: api.url, tokens });
// Stops with the bench: on SIGTERM, or when the bench process is gone (IPC closed).
const stop = () => {
  void api
    .close()
    .then(() => database.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
