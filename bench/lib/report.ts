/**
 * Every scenario prints a table for people and one JSON line (prefixed
 * `BENCH_JSON `) for tools and for docs/performance.md.
 */
export function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index]!)).join(' | ')} |`;
  console.log(line(columns));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((column) => String(row[column] ?? ''))));
}

export function printJsonLine(scenario: string, result: unknown): void {
  console.log(`BENCH_JSON ${JSON.stringify({ scenario, date: new Date().toISOString(), result })}`);
}

/** `--tiny` (or BENCH_SIZE=tiny) runs each scenario once at a tiny size: CI checks the scripts work, nothing more. */
export function isTiny(): boolean {
  return process.argv.includes('--tiny') || process.env.BENCH_SIZE === 'tiny';
}
