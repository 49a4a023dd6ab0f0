import type { Command } from 'commander';
export function zoneCommands(_program: Command): void {}
