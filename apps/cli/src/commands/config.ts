import type { Command } from 'commander';
export function configCommands(_program: Command): void {}
