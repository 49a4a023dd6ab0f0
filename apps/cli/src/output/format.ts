import { CliError } from '../client/errors.ts';
import { type Column, renderTable } from './table.ts';

export type Format = 'table' | 'json' | 'yaml';
export const FORMATS: Format[] = ['table', 'json', 'yaml'];

export function formatOf(value: string | undefined): Format {
  const f = (value ?? 'table') as Format;
  if (!FORMATS.includes(f)) throw new CliError('USAGE', `-o must be one of ${FORMATS.join(', ')} (got "${value}")`);
  return f;
}

/** JSON or YAML of the API's own data (scripts read these), yaml loaded only when asked for. */
export async function renderData(data: unknown, format: Exclude<Format, 'table'>): Promise<string> {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  const { stringify } = await import('yaml');
  return stringify(data, { lineWidth: 0 });
}

/** Prints rows as a table, or the data as JSON/YAML. */
export async function printList<T>(rows: T[], columns: Column<T>[], format: Format, data: unknown = rows) {
  if (format === 'table') {
    process.stdout.write(rows.length === 0 ? 'nothing found\n' : renderTable(rows, columns));
    return;
  }
  process.stdout.write(await renderData(data, format));
}

/** Prints text for tables, data otherwise. */
export async function printValue(text: () => string, data: unknown, format: Format) {
  process.stdout.write(format === 'table' ? text() : await renderData(data, format));
}
