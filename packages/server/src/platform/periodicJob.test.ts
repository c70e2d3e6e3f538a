import { describe, expect, it } from 'vitest';
import { PeriodicJob } from './periodicJob.ts';

class Probe extends PeriodicJob<[n?: number], number> {
  calls = 0;
  release: (() => void) | null = null;
  failNext = false;
  constructor(readonly logged: string[]) {
    super((m) => logged.push(m), 'probe', -1);
  }
  protected async work(n = 1): Promise<number> {
    this.calls++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('boom');
    }
    await new Promise<void>((resolve) => {
      this.release = resolve;
    });
    return n * 10;
  }
  begin(everyMs: number, first?: number) {
    this.startEvery(everyMs, first);
  }
}

describe('PeriodicJob', () => {
  it('runs one tick at a time: another tick meanwhile answers idle; the work gets its arguments', async () => {
    const job = new Probe([]);
    const first = job.tick(4);
    await Promise.resolve();
    expect(await job.tick(5)).toBe(-1);
    job.release!();
    expect(await first).toBe(40);
    expect(job.calls).toBe(1);
    const next = job.tick();
    await Promise.resolve();
    job.release!();
    expect(await next).toBe(10);
  });

  it('logs a failed tick and runs again at the next', async () => {
    const logged: string[] = [];
    const job = new Probe(logged);
    job.failNext = true;
    expect(await job.tick()).toBe(-1);
    expect(logged).toEqual(['probe failed: boom']);
    const again = job.tick(2);
    await Promise.resolve();
    job.release!();
    expect(await again).toBe(20);
  });

  it('ticks at start with the first arguments, and stop waits for the tick at work', async () => {
    const job = new Probe([]);
    job.begin(60_000, 3);
    await Promise.resolve();
    expect(job.calls).toBe(1);
    let stopped = false;
    const stopping = job.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    job.release!();
    await stopping;
    expect(stopped).toBe(true);
  });
});
