import http from 'node:http';

/**
 * A closed-loop HTTP load generator: `clients` virtual clients, each sending its next request as
 * soon as the last one answered (or, with `thinkMs`, after an exponentially distributed pause of
 * that mean, as a person at a counter would), over keep-alive connections (one per client), for
 * a duration or a number of requests. Latency is measured from sending the request to the last
 * byte of the answer.
 */

export interface Request<K extends string> {
  kind: K;
  path: string;
}

export interface Sample<R> {
  request: R;
  ms: number;
  status: number;
  body: string;
}

export interface LoadOptions<R extends Request<string>> {
  baseUrl: string;
  headers: Record<string, string>;
  clients: number;
  /** Stop after this long (ms)… */
  durationMs: number;
  /** …or after this many requests in all, whichever comes first. */
  maxRequests: number;
  next: () => R;
  /** Called once per answer. */
  onSample: (sample: Sample<R>) => void;
  /** A request that gets no answer in this time counts as an error. */
  timeoutMs?: number;
  /** Mean pause of each client between an answer and its next request (0: none). */
  thinkMs?: number;
  /** Random numbers in [0, 1) for the pauses (deterministic runs pass their own). */
  random?: () => number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
}

export async function runLoad<R extends Request<string>>(opts: LoadOptions<R>): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.clients, maxFreeSockets: opts.clients });
  const base = new URL(opts.baseUrl);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const started = performance.now();
  const deadline = started + opts.durationMs;
  let sent = 0;
  let errors = 0;

  const one = (req: R) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const done = (status: number, body: string) => {
        const ms = performance.now() - t0;
        if (status !== 200) errors++;
        opts.onSample({ request: req, ms, status, body });
        resolve();
      };
      const r = http.request(
        {
          host: base.hostname,
          port: base.port,
          path: req.path,
          method: 'GET',
          agent,
          headers: opts.headers,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          res.on('error', (e) => done(0, String(e)));
        },
      );
      r.on('timeout', () => r.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      r.on('error', (e) => done(0, String(e)));
      r.end();
    });

  const thinkMs = opts.thinkMs ?? 0;
  const random = opts.random ?? Math.random;
  const pause = () => {
    const ms = Math.min(
      -Math.log(1 - random()) * thinkMs,
      10 * thinkMs,
      Math.max(0, deadline - performance.now()),
    );
    return new Promise((resolve) => setTimeout(resolve, ms));
  };
  const client = async () => {
    // Paced clients start spread over one mean pause, not all at once.
    if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, random() * thinkMs));
    while (performance.now() < deadline && sent < opts.maxRequests) {
      sent++;
      await one(opts.next());
      if (thinkMs > 0) await pause();
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, client));
  agent.destroy();
  return { requests: sent, errors, seconds: (performance.now() - started) / 1000 };
}
