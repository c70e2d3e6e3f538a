#!/usr/bin/env node
// The meterline command: loads the TypeScript CLI in this process through tsx's loader, so signals
// (Ctrl-C, SIGTERM from a service manager) reach the server directly.
import { register } from 'tsx/esm/api';

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `meterline needs Node.js 22 or newer (this is ${process.version}); run it through npm (npx meterline / npm run meterline), which uses the Node the project installs.`,
  );
  process.exit(1);
}
register();
await import('../src/main.ts');
