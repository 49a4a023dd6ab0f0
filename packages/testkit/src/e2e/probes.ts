import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SERVICE = 'www.example.net';
/** The overloaded edge (fra, which also announces the supernet): its answer and its /24. */
export const FRA_ANSWER = '198.18.1.10';
export const FRA_V4 = '198.18.1.0/24';
export const SUPERNET_V4 = '198.18.0.0/20';
export const PREPEND = '64500:2002';

/**
 * Candidate client subnets in Germany, whose nearest edge is fra; the world keeps those the
 * embedded country database places there (`World.probes`). The DNS shift moves a share of them.
 */
export const DE_SUBNETS = [
  '80.128.0.0/24',
  '79.192.0.0/24',
  '84.128.0.0/24',
  '87.128.0.0/24',
  '91.0.0.0/24',
  '93.192.0.0/24',
  '217.80.0.0/24',
  '2.200.0.0/24',
  '46.114.0.0/24',
  '88.64.0.0/24',
  '95.88.0.0/24',
  '109.40.0.0/24',
  '178.0.0.0/24',
  '188.96.0.0/24',
  '31.16.0.0/24',
  '62.224.0.0/24',
];

/** The A answer for one client subnet, asked with `dig +subnet` (a lost UDP answer is asked again). */
export async function digAnswer(port: number, subnet: string): Promise<string> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const { stdout } = await run(
        'dig',
        ['@127.0.0.1', '-p', String(port), `+subnet=${subnet}`, '+short', '+tries=2', '+time=1', SERVICE, 'A'],
        { timeout: 5000 },
      );
      return stdout.trim().split('\n').sort().join(',');
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** The A answer for each probe subnet, four digs at a time. */
export async function digAnswers(port: number, subnets: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < subnets.length; i += 4) {
    const chunk = subnets.slice(i, i + 4);
    const answers = await Promise.all(chunk.map((s) => digAnswer(port, s)));
    chunk.forEach((s, j) => out.set(s, answers[j] ?? ''));
  }
  return out;
}
