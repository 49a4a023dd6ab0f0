import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VERSION } from '@catchment/core';
import { type Stack, scrape, startStack } from '@catchment/testkit';

const run = promisify(execFile);
const PARTS = ['api', 'dns', 'controller', 'edge'] as const;

/** promtool's lint of an exposition: its findings (empty when clean). */
async function promtoolCheck(text: string): Promise<string> {
  const child = execFile('promtool', ['check', 'metrics']);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  child.stdin?.end(text);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return code === 0 ? out.trim() : `exit ${code}: ${out}`;
}

/**
 * Metrics and logs of every part as an operator sees them: `catchment start` (API, DNS,
 * controller) and a separate edge agent, scraped and linted with promtool, their JSON logs
 * parsed line by line, stopped with SIGTERM.
 */
describe('metrics and logs of every part', () => {
  let stack: Stack;
  const texts: Partial<Record<(typeof PARTS)[number], string>> = {};
  before(async () => {
    await run('promtool', ['--version']);
    stack = await startStack();
    await stack.startEdge('lhr');
    for (const part of PARTS) {
      const url = stack.metricsUrls[part];
      assert.ok(url, part);
      texts[part] = await scrape(url, part === 'api' ? stack.adminToken : undefined);
    }
  });
  after(() => stack?.stop());

  for (const part of PARTS) {
    it(`${part}: catchment_build_info, process_* and nodejs_* metrics, promtool check metrics clean`, async () => {
      const text = texts[part] ?? '';
      const info = text.split('\n').find((l) => l.startsWith('catchment_build_info{'));
      assert.ok(info, `${part} has catchment_build_info`);
      assert.match(info, new RegExp(`version="${VERSION.replaceAll('.', '\\.')}"`));
      assert.match(info, new RegExp(`part="${part}"`));
      assert.match(info, / 1$/);
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'process_start_time_seconds',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.match(text, new RegExp(`^${name}(\\{| )`, 'm'), `${part} exposes ${name}`);
      }
      assert.doesNotMatch(text, /^catchment_api_process_|^catchment_api_nodejs_/m, 'standard names, not prefixed');
      assert.equal(await promtoolCheck(text), '', `${part}: promtool check metrics`);
    });
  }

  it('logs JSON lines with ISO timestamps and no duplicate keys; a stop delivers the last report', async () => {
    const edgeCode = await stack.edge?.stop();
    const mainCode = await stack.main.stop();
    assert.equal(edgeCode, 0, stack.edge?.output());
    assert.equal(mainCode, 0, stack.main.output());
    const lines = [stack.main.output(), stack.edge?.output() ?? '']
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(lines.length > 5, 'there are logs');
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      // Parsing keeps the last of duplicate keys, so a line with duplicates does not survive a round trip.
      assert.equal(JSON.stringify(entry), line, `no duplicate keys: ${line}`);
      assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
      assert.equal(typeof entry.msg, 'string', line);
    }
    const notDelivered = lines.filter((l) => l.includes('report not delivered'));
    assert.deepEqual(notDelivered, [], 'stopping reports nothing undeliverable');
  });
});
