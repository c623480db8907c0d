import Table from 'cli-table3';
import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Prints rows as a table (chosen columns), or whole objects as JSON or YAML. */
export function print(
  format: OutputFormat,
  rows: Record<string, unknown>[] | Record<string, unknown>,
  columns: string[],
): void {
  if (format === 'json') {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (format === 'yaml') {
    process.stdout.write(stringify(rows));
    return;
  }
  const list = Array.isArray(rows) ? rows : [rows];
  const table = new Table({
    head: columns.map((c) => c.toUpperCase()),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of list) table.push(columns.map((c) => format1(r[c])));
  console.log(
    table
      .toString()
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n'),
  );
}

const format1 = (v: unknown): string =>
  Array.isArray(v) ? v.join(',') : v === undefined || v === null ? '' : String(v);
