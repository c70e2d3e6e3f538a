import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * How busy the machine is, from /proc/stat: benchmarks on a shared machine measure the neighbours
 * too, so they record how busy it was before they started. Linux only; elsewhere null.
 */
function cpuTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const t = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (t[3] ?? 0) + (t[4] ?? 0);
    const total = t.reduce((s, x) => s + x, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Share of all CPUs busy over the next `ms` milliseconds, in percent (null if unknown). */
export async function cpuBusyPercent(ms = 2000): Promise<number | null> {
  const a = cpuTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTicks();
  if (!a || !b || b.total === a.total) return null;
  return Math.round(((b.busy - a.busy) / (b.total - a.total)) * 100);
}

export function machine(): { cpus: number; cpu_model: string; memory_gb: number } {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? '',
    memory_gb: Math.round(os.totalmem() / 1024 ** 3),
  };
}

const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) a process has used so far, in ms; null if it cannot be read. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state: utime is the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** CPU time of the whole machine so far: busy and total, in ms summed over CPUs. */
export function machineCpuMs(): { busy: number; total: number } | null {
  const t = cpuTicks();
  return t
    ? { busy: (t.busy * 1000) / CLOCK_TICKS_PER_S, total: (t.total * 1000) / CLOCK_TICKS_PER_S }
    : null;
}
