import http from 'node:http';

/**
 * Lab client (run inside the client namespace).
 *   count <vip> <n>          n requests, each on a new TCP connection; prints {"A":..,"B":..,"errors":..}
 *   download <vip> <bytes>   one long download; prints "progress <bytes>" lines, then "done <edge> <bytes>"
 *   from <vip> <port>        one request from this local port; prints the edge that served it
 */
const [mode, vip, arg] = process.argv.slice(2);

function get(
  path: string,
  onData?: (n: number) => void,
  localPort?: number,
): Promise<{ servedBy: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: vip, port: 80, path, agent: false, timeout: 5000, localPort }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        onData?.(bytes);
      });
      res.on('end', () => resolve({ servedBy: String(res.headers['x-served-by']), bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

if (mode === 'count') {
  const n = Math.min(Number(arg), 2000);
  const tally: Record<string, number> = { errors: 0 };
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        const r = await get('/');
        tally[r.servedBy] = (tally[r.servedBy] ?? 0) + 1;
      } catch {
        tally.errors = (tally.errors ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  process.stdout.write(`${JSON.stringify(tally)}\n`);
} else if (mode === 'download') {
  let reported = 0;
  try {
    const r = await get(`/big?size=${Number(arg)}`, (bytes) => {
      if (bytes - reported >= 256 * 1024) {
        reported = bytes;
        process.stdout.write(`progress ${bytes}\n`);
      }
    });
    process.stdout.write(`done ${r.servedBy} ${r.bytes}\n`);
  } catch (err) {
    process.stdout.write(`error ${String(err)}\n`);
  }
} else if (mode === 'from') {
  try {
    process.stdout.write(`${(await get('/', undefined, Number(arg))).servedBy}\n`);
  } catch (err) {
    process.stdout.write(`error ${String(err)}\n`);
  }
} else {
  process.stderr.write('usage: lab-client.ts count|download|from <vip> <n|bytes|port>\n');
  process.exit(2);
}
