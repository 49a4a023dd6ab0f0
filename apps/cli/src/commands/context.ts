import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { type ContextsFile, contextsPath, readContexts, resolveTarget } from '../client/target.ts';
import { printList, printValue } from '../output/format.ts';
import { commandOf, globals } from './common.ts';

async function save(file: ContextsFile): Promise<string> {
  const path = contextsPath();
  const { stringify } = await import('yaml');
  mkdirSync(dirname(path), { recursive: true });
  // Tokens are secrets: the file is the user's only (as kubectl's config).
  writeFileSync(path, stringify(file), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

interface SetOptions {
  url?: string;
  tokenValue?: string;
  tokenFile?: string;
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  use?: boolean;
}

export function contextCommands(program: Command): void {
  const ctx = program
    .command('context')
    .description('named API targets (URL + token) in ~/.config/catchment/config.yaml (or $CATCHMENT_CONFIG)');
  ctx
    .command('list')
    .description('list contexts (* marks the current one)')
    .action(async (...args: unknown[]) => {
      const g = await globals(commandOf(args));
      const file = await readContexts();
      const rows = Object.entries(file.contexts).map(([name, c]) => ({
        current: name === file.current ? '*' : '',
        name,
        url: c.url ?? '-',
        token: c.token ? 'inline' : c.tokenFile ? `file ${c.tokenFile}` : '-',
      }));
      await printList(
        rows,
        [
          { header: 'CURRENT', get: (r) => r.current },
          { header: 'NAME', get: (r) => r.name },
          { header: 'URL', get: (r) => r.url },
          { header: 'TOKEN', get: (r) => r.token },
        ],
        g.format,
      );
    });
  ctx
    .command('set')
    .description('create or change a context')
    .argument('<name>')
    .option('--url <url>', 'API base URL, e.g. http://127.0.0.1:8080, or several comma-separated (failover in order)')
    .option('--ca <file>', "CA (PEM) the API's certificate must chain to (default: the system's)")
    .option('--client-cert <file>', 'client certificate (PEM) presented to the API')
    .option('--client-key <file>', "the client certificate's key (PEM)")
    .option('--token-value <token>', 'the token itself (stored in the file, mode 600)')
    .option('--token-file <path>', 'a file holding the token (read at each call)')
    .option('--use', 'also make it the current context')
    .action(async (name: string, opts: SetOptions) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) throw new CliError('USAGE', `bad context name "${name}"`);
      if (opts.url !== undefined && !/^https?:\/\/[^\s]+$/.test(opts.url))
        throw new CliError('USAGE', `--url must be http(s)://host:port (got "${opts.url}")`);
      const file = await readContexts();
      const entry = { ...file.contexts[name] };
      if (opts.url) entry.url = opts.url;
      if (opts.tokenValue) [entry.token, entry.tokenFile] = [opts.tokenValue, undefined];
      if (opts.tokenFile) [entry.tokenFile, entry.token] = [opts.tokenFile, undefined];
      // Absolute paths: the file is read from wherever the CLI runs later.
      if (opts.ca) entry.ca = resolve(opts.ca);
      if (opts.clientCert) entry.clientCert = resolve(opts.clientCert);
      if (opts.clientKey) entry.clientKey = resolve(opts.clientKey);
      file.contexts[name] = JSON.parse(JSON.stringify(entry));
      if (opts.use || file.current === undefined) file.current = name;
      const path = await save(file);
      process.stdout.write(`context "${name}" saved in ${path}${file.current === name ? ' (current)' : ''}\n`);
    });
  ctx
    .command('use')
    .description('make a context the current one')
    .argument('<name>')
    .action(async (name: string) => {
      const file = await readContexts();
      if (!file.contexts[name])
        throw new CliError(
          'CONTEXT_UNKNOWN',
          `no context "${name}"; known: ${Object.keys(file.contexts).join(', ') || 'none'}`,
        );
      file.current = name;
      await save(file);
      process.stdout.write(`switched to context "${name}"\n`);
    });
  ctx
    .command('delete')
    .description('remove a context')
    .argument('<name>')
    .action(async (name: string) => {
      const file = await readContexts();
      if (!file.contexts[name]) throw new CliError('CONTEXT_UNKNOWN', `no context "${name}"`);
      delete file.contexts[name];
      if (file.current === name) file.current = undefined;
      await save(JSON.parse(JSON.stringify(file)));
      process.stdout.write(`context "${name}" deleted\n`);
    });
  ctx
    .command('current')
    .description('the API URL and token source this shell would use')
    .action(async (...args: unknown[]) => {
      const c = commandOf(args);
      const g = await globals(c);
      const t = await resolveTarget({
        apiUrl: g.opts.apiUrl as string,
        token: g.opts.token as string,
        context: g.opts.context as string,
      });
      const data = {
        url: t.url,
        urlFrom: t.source.url,
        token: t.token ? 'set' : 'none',
        tokenFrom: t.source.token || '-',
      };
      await printValue(
        () => `url ${t.url} (from ${t.source.url}); token ${t.token ? `from ${t.source.token}` : 'none'}\n`,
        data,
        g.format,
      );
    });
}
