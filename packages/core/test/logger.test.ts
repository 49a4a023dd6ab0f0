import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LOGGER = new URL('../src/logger.ts', import.meta.url).pathname;
const SCRIPT = `const { createLogger } = await import(${JSON.stringify(LOGGER)});
createLogger('t').child({ part: 'x' }).info({ n: 1 }, 'hello');`;

/** A process that logs one line, with stdout a pipe or (through script(1)) a terminal. */
async function logOnce(env: Record<string, string>, tty = false): Promise<string> {
  const e: NodeJS.ProcessEnv = { ...process.env, CATCHMENT_LOG_LEVEL: 'info', ...env };
  delete e.NODE_TEST_CONTEXT;
  const node = [process.execPath, '--input-type=module', '-e', SCRIPT];
  const quoted = node.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const { stdout } = tty
    ? await run('script', ['-qfec', quoted, '/dev/null'], { env: e })
    : await run(node[0] ?? '', node.slice(1), { env: e });
  return stdout;
}

test('JSON lines with ISO timestamps on a pipe', async () => {
  const line = JSON.parse((await logOnce({})).trim()) as Record<string, unknown>;
  assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(line.msg, 'hello');
  assert.equal(line.part, 'x');
});

test('pino-pretty on a terminal, and JSON there when asked', async () => {
  const pretty = await logOnce({}, true);
  assert.match(pretty, /INFO/);
  assert.match(pretty, /hello/);
  assert.throws(() => JSON.parse(pretty.trim()));
  const json = await logOnce({ CATCHMENT_LOG_FORMAT: 'json' }, true);
  assert.equal((JSON.parse(json.trim()) as { msg: string }).msg, 'hello');
  assert.match(await logOnce({ CATCHMENT_LOG_FORMAT: 'pretty' }), /INFO.*hello/s);
});

test('an unknown log format is refused by name', async () => {
  await assert.rejects(logOnce({ CATCHMENT_LOG_FORMAT: 'xml' }), /CATCHMENT_LOG_FORMAT must be "json" or "pretty"/);
});
