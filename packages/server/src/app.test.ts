import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './testing/harness.ts';

let t: TestApp;
let webDir: string;

beforeAll(async () => {
  webDir = await mkdtemp(path.join(os.tmpdir(), 'meterline-web-'));
  await mkdir(path.join(webDir, 'assets'));
  await writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>meterline</title>');
  await writeFile(path.join(webDir, 'assets', 'app-1.js'), 'console.log(1)');
  t = await createTestApp({ config: { webDir } });
});

afterAll(async () => {
  await t.close();
  await rm(webDir, { recursive: true, force: true });
});

describe('serving the back office', () => {
  it('serves pages of the single-page app as index.html and assets as files', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/customers/42?tab=audit' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>meterline</title>');
    const asset = await t.app.inject({ method: 'GET', url: '/assets/app-1.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log(1)');
  });

  it('answers a missing asset (say, of an older build) with 404, not with the page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/assets/app-0.js' });
    expect(res.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/favicon.ico' })).statusCode).toBe(404);
  });

  it('answers an unknown API path with a JSON 404', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: '/api/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('publishes the OpenAPI document without a session', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/customers', '/api/customers/{accountId}', '/api/imports']),
    );
  });
});
