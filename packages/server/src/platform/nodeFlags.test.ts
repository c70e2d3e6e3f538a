import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from './nodeFlags.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('the flags the server runs with', () => {
  it('are passed by the npm scripts that start the server and the CLI', () => {
    const { scripts } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const name of ['start', 'meterline'])
      for (const flag of SERVER_NODE_FLAGS) expect(scripts[name], name).toContain(`node ${flag}`);
  });
});
