/**
 * V8 flags the server and the CLI run with (package.json's `start` and `meterline` scripts pass
 * them; a service manager starting `meterline` another way sets NODE_OPTIONS to the same).
 *
 * --max-semi-space-size=64: a young generation of 64 MB semi-spaces (the default is 16–32 MB).
 * Pricing a bill run allocates short-lived objects at a high rate (decimal.js values, the bills'
 * rows and their COPY text); with the default, scavenges took about a third of the process's CPU.
 * Measured with `npm run bench -- bill-run` at 1,000,000 accounts: 123 s and 102 µs of Node CPU a
 * bill without it, 94 s and 76 µs with it (bench/README.md). It cannot be set once V8 has started.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
