import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { KINDS } from './kinds.ts';

// Shell completion: the scripts ask `catchment __complete <words so far>` for candidates,
// so they always match this version's commands and options (as kubectl's do).

const BASH = `# catchment bash completion: source <(catchment completion bash)
_catchment() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(catchment __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _catchment catchment
`;

const ZSH = `#compdef catchment
# catchment zsh completion: source <(catchment completion zsh)
_catchment() {
  local -a candidates
  candidates=(\${(f)"$(catchment __complete \${words[2,CURRENT-1]} 2>/dev/null)"})
  compadd -a candidates
}
if (( $+functions[compdef] )); then compdef _catchment catchment; fi
`;

/** Candidates after `words`: subcommands and options of the command they reach, kinds for get/describe. */
export function candidates(program: Command, words: string[]): string[] {
  let cmd = program;
  let positional = 0;
  for (const w of words) {
    const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (sub) {
      cmd = sub;
      positional = 0;
    } else if (!w.startsWith('-')) positional++;
  }
  const out: string[] = [];
  if (['get', 'describe'].includes(cmd.name()) && positional === 0) out.push(...Object.keys(KINDS));
  out.push(...cmd.commands.map((c) => c.name()).filter((n) => !n.startsWith('__')));
  const options = [...cmd.options, ...(cmd === program ? [] : program.options)];
  for (const o of options) out.push(...[o.long, o.short].filter((x): x is string => !!x));
  return out;
}

export function completionCommand(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script: source <(catchment completion bash|zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(BASH);
      else if (shell === 'zsh') process.stdout.write(ZSH);
      else throw new CliError('USAGE', `completion for "${shell}" is not available: bash or zsh`);
    });
  program
    .command('__complete', { hidden: true })
    .allowUnknownOption()
    .argument('[words...]')
    .action((words: string[]) => {
      process.stdout.write(`${candidates(program, words ?? []).join('\n')}\n`);
    });
}
