import { parseArgs } from 'node:util';

/**
 * Command-line options of a benchmark: `--size 1000000`, `--size 1e6`, `--size 1_000_000`,
 * `--size 20k` and `--size 1M` all mean what they say. Unknown options are refused, so a typo does
 * not silently run the default.
 */
export function benchOptions<const T extends Record<string, { type: 'string' | 'boolean' }>>(
  options: T,
  argv: string[] = process.argv.slice(2),
) {
  return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values as {
    [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string;
  };
}

/** A whole number from an option, with k/M suffixes and 1e6 / 1_000_000 / 1,000,000 forms. */
export function count(raw: string | undefined, fallback: number, name = 'value'): number {
  if (raw === undefined) return fallback;
  const m = /^([0-9][0-9_,.]*(?:e[0-9]+)?)([kKmM]?)$/.exec(raw.trim());
  const value = m ? Number(m[1]!.replace(/[_,]/g, '')) * ({ k: 1e3, m: 1e6 }[m[2]!.toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`--${name} must be a whole number (e.g. 20000, 20k, 1e6, 1M), got "${raw}"`);
  }
  return value;
}
