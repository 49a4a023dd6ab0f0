/**
 * Test harness process: runs the real server with options from argv[2] (JSON), answering from
 * the snapshot file argv[3]; SIGHUP reloads that file (a snapshot push), SIGTERM stops.
 */
import { readFileSync } from 'node:fs';
import { createDnsServer, type DnsServerOptions } from '../src/index.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as DnsServerOptions;
const file = process.argv[3];
const read = () => (file ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
const server = await createDnsServer({ ...opts, snapshot: read() });
process.on('SIGHUP', () => {
  server
    .setSnapshot(read())
    .then((r) => process.stdout.write(`loaded ${r.version}\n`))
    .catch((err) => process.stdout.write(`rejected ${String(err)}\n`));
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
process.stdout.write(`ready ${server.httpPort ?? 0}\n`);
