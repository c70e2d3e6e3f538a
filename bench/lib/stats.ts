/** Latency figures of a set of samples, in milliseconds rounded to 0.1 ms. */
export interface LatencySummary {
  requests: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

/** Nearest-rank percentile of ascending samples. */
export function percentile(sortedAsc: Float64Array | number[], p: number): number {
  if (sortedAsc.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length - 1, Math.max(0, rank - 1))]!;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

export function summarise(samplesMs: number[]): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    requests: sorted.length,
    p50_ms: round1(percentile(sorted, 50)),
    p90_ms: round1(percentile(sorted, 90)),
    p99_ms: round1(percentile(sorted, 99)),
    max_ms: round1(sorted.length ? sorted[sorted.length - 1]! : 0),
    mean_ms: round1(sorted.length ? sum / sorted.length : 0),
  };
}

/** Peak resident memory of this process so far, in MB (the kernel's high-water mark). */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
