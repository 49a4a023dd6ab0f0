import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, runCli, tempDir } from '@catchment/testkit';

const run = promisify(execFile);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const catchment = (args: string[], env: Record<string, string>) =>
  runCli(args, { ...process.env, CATCHMENT_LOG_LEVEL: 'warn', ...env });

describe('catchment CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  it('migrates the embedded database and bootstraps a first token without an API', async () => {
    const env = { CATCHMENT_DATA_DIR: join(dir.path, 'data') };
    const status = await catchment(['migrate'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /(\d+)\/\1 migrations applied/);
    const made = await catchment(['token', 'bootstrap', '--role', 'admin', '--name', 'first'], env);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^ct_/);
    const again = await catchment(['token', 'bootstrap', '--role', 'admin', '--name', 'first'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^catchment: [A-Z_]+: /);
  });

  it('says clearly when the database is unreachable', async () => {
    const port = await freePort();
    const res = await catchment(['migrate'], { DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none` });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /DB_UNREACHABLE: cannot reach PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1/);
  });

  it('completes commands, subcommands and options in bash', async () => {
    const script = join(dir.path, 'completion.bash');
    await writeFile(script, (await catchment(['completion', 'bash'], {})).stdout);
    const complete = async (...words: string[]) => {
      const body = `catchment() { "${process.execPath}" "${MAIN}" "$@"; }; source "${script}"; COMP_WORDS=(catchment ${words.join(' ')}); COMP_CWORD=${words.length}; _catchment; echo "\${COMPREPLY[*]}"`;
      return (await run('bash', ['-c', body])).stdout.trim();
    };
    assert.equal(await complete('ru'), 'runs');
    assert.equal(await complete('runs', 'a'), 'approve abort');
    assert.match(await complete('get', 'pre'), /^prefixes$/);
    assert.match(await complete('drain', 'lhr', '--dr'), /^--dry-run$/);
    assert.equal((await catchment(['completion', 'fish'], {})).code, 1);
  });

  it('completes commands and options in zsh (compinit, the generated script, its completion function)', async () => {
    const script = join(dir.path, 'completion.zsh');
    await writeFile(script, (await catchment(['completion', 'zsh'], {})).stdout);
    // zsh -f: no user rc files. compinit for real (compdef must register the function); then the
    // completion function runs with a fake words array, and compadd records what it is offered.
    const complete = async (...words: string[]) => {
      const body = [
        'autoload -Uz compinit && compinit -u -D',
        `catchment() { "${process.execPath}" "${MAIN}" "$@"; }`,
        `source "${script}"`,
        'print -r -- "registered:$_comps[catchment]"',
        'offered=()',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh parameter expansion
        'compadd() { [[ $1 == -a ]] && offered+=("${(@P)2}"); }',
        `words=(catchment ${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length + 1}`,
        '_catchment',
        // What the shell shows: the candidates that start with the word being completed.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh parameter expansion
        'shown=(); for c in $offered; do [[ $c == ${words[CURRENT]}* ]] && shown+=($c); done',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: zsh parameter expansion
        'print -r -- ${(j: :)shown}',
      ].join('\n');
      const { stdout } = await run('zsh', ['-f', '-c', body], { timeout: 60_000 });
      const [registered, offered] = stdout.trim().split('\n');
      assert.equal(registered, 'registered:_catchment', 'compdef registered the function');
      return offered ?? '';
    };
    assert.equal(await complete('ru'), 'runs');
    assert.match(await complete('pi'), /^pin$/);
    assert.match(await complete('un'), /\bunpin\b/);
    assert.equal(await complete('runs', 'a'), 'approve abort');
    assert.match(await complete('pin', '--na'), /^--name$/);
  });

  it('prints its version', async () => {
    const res = await catchment(['version'], {});
    assert.match(res.stdout, /^catchment \d+\.\d+\.\d+ \(node v24\./);
  });
});
