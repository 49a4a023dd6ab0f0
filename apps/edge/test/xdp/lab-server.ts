import http from 'node:http';

/**
 * HTTP server of the lab edges (run inside an edge namespace): answers with its edge
 * name; /big streams `size` bytes at a bounded pace (a long download). Logs one line per
 * request on stdout so the test knows which edge served what.
 */
const name = process.argv[2] ?? 'edge';
const host = process.argv[3] ?? '0.0.0.0';

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://lab');
  process.stdout.write(`request ${url.pathname}\n`);
  res.setHeader('x-served-by', name);
  if (url.pathname !== '/big') {
    res.end(name);
    return;
  }
  const size = Math.min(Number(url.searchParams.get('size') ?? 0), 64 * 1024 * 1024);
  const chunk = Buffer.alloc(32 * 1024, 120);
  let sent = 0;
  res.setHeader('content-length', size);
  const timer = setInterval(() => {
    if (sent >= size) {
      clearInterval(timer);
      res.end();
      return;
    }
    const n = Math.min(chunk.length, size - sent);
    res.write(chunk.subarray(0, n));
    sent += n;
  }, 10);
  res.on('close', () => clearInterval(timer));
});
server.keepAliveTimeout = 1000;
server.listen(80, host, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
