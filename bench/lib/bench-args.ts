/** `--name=value` options of a scenario script (besides `--tiny`). */
export function argValue(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

/** `--name=1,50,200` as numbers, or `fallback` when absent. */
export function argNumbers(name: string, fallback: number[]): number[] {
  const value = argValue(name);
  return value === undefined ? fallback : value.split(',').map(Number);
}
