import { connect } from 'node:net';
import { SpeakerError } from './types.ts';

/** One reply line of BIRD's control protocol: a 4-digit code and its text. */
export interface BirdLine {
  code: number;
  text: string;
}

/**
 * Client for BIRD's control socket (the protocol birdc speaks): each reply line is
 * `DDDD-text` (more follows), ` text` (continuation of the previous code) or `DDDD text`
 * (last line). Codes 8xxx are runtime errors, 9xxx parse errors. One connection per
 * command keeps it simple and survives a daemon restart.
 */
export async function birdCommand(socket: string, command: string, timeoutMs = 10_000): Promise<BirdLine[]> {
  return await new Promise<BirdLine[]>((resolve, reject) => {
    const conn = connect(socket);
    const lines: BirdLine[] = [];
    let buf = '';
    let greeted = false;
    let last = 0;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(
        new SpeakerError('SPEAKER_UNREACHABLE', `BIRD at ${socket} did not answer "${command}" in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolve(lines);
    };
    conn.setEncoding('utf8');
    conn.on('error', (e) =>
      finish(new SpeakerError('SPEAKER_UNREACHABLE', `cannot reach BIRD at ${socket}: ${(e as Error).message}`)),
    );
    conn.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        const m = /^(\d{4})([ -])(.*)$/.exec(line);
        if (!m) {
          lines.push({ code: last, text: line.startsWith(' ') ? line.slice(1) : line });
          continue;
        }
        last = Number(m[1]);
        const end = m[2] === ' ';
        if (!greeted) {
          // 0001 "BIRD x.y ready." greets every connection; then send the command.
          if (end) {
            greeted = true;
            conn.write(`${command}\n`);
          }
          continue;
        }
        lines.push({ code: last, text: m[3] ?? '' });
        if (end) return finish();
      }
    });
    conn.on('close', () =>
      finish(new SpeakerError('SPEAKER_UNREACHABLE', `BIRD closed the control socket during "${command}"`)),
    );
  });
}

/** Throws when the reply ends in a BIRD error (8xxx runtime, 9xxx syntax). */
export function assertBirdOk(command: string, lines: BirdLine[]): BirdLine[] {
  const last = lines[lines.length - 1];
  if (last && last.code >= 8000) {
    throw new SpeakerError('SPEAKER_COMMAND_FAILED', `BIRD refused "${command}": ${last.text}`, birdText(lines));
  }
  return lines;
}

export function birdText(lines: BirdLine[]): string {
  return lines.map((l) => l.text).join('\n');
}
