import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { createLogger } from '@catchment/core';
import { freePort } from '@catchment/testkit';
import { Notifier } from '../src/notifier.ts';

const run = { id: 7, playbook: 'shed', edge: 'lhr', state: 'acting', mode: 'auto' };

describe('notifier', () => {
  it('posts a body chat tools accept, retries a refusing webhook, never throws', async () => {
    const bodies: { text?: string; catchment?: { event: string } }[] = [];
    let refuse = 1;
    const server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => {
        data += c;
      });
      req.on('end', () => {
        assert.equal(req.headers['content-type'], 'application/json');
        if (refuse-- > 0) {
          res.writeHead(503);
          res.end();
          return;
        }
        bodies.push(JSON.parse(data));
        res.writeHead(200);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const n = new Notifier({ url: `http://127.0.0.1:${port}/hook`, logger: createLogger('test') });
      n.notify({ event: 'escalated', text: 'applied dns-shift 25 %', run });
      await n.flush();
      assert.equal(bodies.length, 1);
      assert.equal(bodies[0]?.catchment?.event, 'escalated');
      assert.match(bodies[0]?.text ?? '', /\[escalated\] shed on lhr \(run 7, auto\): applied dns-shift 25 %/);
      assert.equal(n.sent, 1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    // Nobody listens: the message is given up after its retries, quietly.
    const dead = new Notifier({
      url: `http://127.0.0.1:${await freePort()}/hook`,
      logger: createLogger('test'),
      retries: 1,
    });
    dead.notify({ event: 'refused', text: 'capacity', run });
    await dead.flush();
    assert.equal(dead.failed, 1);
  });
});
