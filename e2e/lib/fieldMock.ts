import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A stand-in for the two handheld endpoints of docs/reading.md (and sign-in), serving the built
 * field app at /field/: for developing and looking at the app without the real server. The browser
 * test runs against the real server (e2e/reading.test.ts); this mock only mirrors the contract.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIELD_DIST = path.join(ROOT, 'packages/field/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
};

export interface MockReading {
  clientId: string;
  accountId: number;
  meterId: number;
  index: string | null;
  anomalyCodes: string[];
  photo?: string;
  signature?: string;
  signerName?: string;
}

export interface FieldMock {
  url: string;
  /** Every reading stored, once per clientId. */
  stored: MockReading[];
  requests: { readings: number };
  close(): Promise<void>;
}

function demoRoute(workDate: string) {
  const streets = ['幸福小区3栋1单元', '幸福小区3栋2单元', '幸福小区5栋1单元'];
  const names = ['张伟', '王芳', '李娜', '刘洋', '陈静', '杨磊', '赵敏', '黄勇'];
  const meters = names.map((name, i) => ({
    accountId: 1000 + i,
    meterId: 2000 + i,
    bookId: 7,
    routeSeq: (i + 1) * 10,
    meterNo: `SB${String(310000 + i)}`,
    customerName: name,
    customerCode: `0101${String(i + 1).padStart(6, '0')}`,
    address: `金水区${streets[i % 3]}${(i % 6) + 1}0${(i % 2) + 1}室`,
    meterLocation: i % 2 ? '楼道管井' : '户外表箱',
    meterBoxNo: `B-${i + 1}`,
    usageType: '居民生活',
    caliberDn: 20,
    mounting: i % 2 ? 'indoor' : 'wall',
    dialDigits: 5,
    previousIndex: String(1200 + i * 37),
    lastReadings: [
      { readAt: '2026-01-10T02:00:00Z', index: String(1200 + i * 37), consumptionM3: '18', kind: 'actual' },
      { readAt: '2025-10-10T02:00:00Z', index: String(1182 + i * 37), consumptionM3: '20', kind: 'actual' },
    ],
    expectedM3: '18.000',
    estimatesInARow: 0,
    visitForced: false,
  }));
  return {
    workDate,
    books: [{ bookId: 7, code: '0101-C-007', name: '幸福小区一册', zone: 'C' }],
    meters,
    anomalyCodes: [
      { code: 'NO_ACCESS', nameZh: '无法入户', nameEn: 'No access', preventsReading: true },
      { code: 'METER_STOPPED', nameZh: '水表停走', nameEn: 'Meter stopped', meterFault: true },
      { code: 'METER_BROKEN', nameZh: '水表损坏', nameEn: 'Meter broken', meterFault: true },
      { code: 'SEAL_BROKEN', nameZh: '铅封损坏', nameEn: 'Seal broken' },
      { code: 'ILLEGAL_USE', nameZh: '疑似违章用水', nameEn: 'Suspected illegal use' },
      { code: 'BYPASS_OPEN', nameZh: '旁通阀开启', nameEn: 'Bypass valve open' },
    ],
    thresholds: { highFactor: 3, lowFactor: 0.3, minExpectedM3: 2 },
  };
}

async function body(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

export async function startFieldMock(opts: { port?: number } = {}): Promise<FieldMock> {
  const stored: MockReading[] = [];
  const requests = { readings: 0 };
  const byClient = new Map<string, { outcome: string; readingId: number }>();
  const byMeter = new Map<string, MockReading>();
  let signedIn = false;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    try {
      if (url.pathname === '/api/auth/login' && req.method === 'POST') {
        signedIn = true;
        res.setHeader('set-cookie', 'ml_session=mock; Path=/; HttpOnly; SameSite=Lax');
        return json(200, { staffId: 5, username: 'reader', mustChangePassword: false });
      }
      if (url.pathname.startsWith('/api/') && !signedIn && !req.headers.cookie?.includes('ml_session=mock')) {
        return json(401, { error: { code: 'UNAUTHENTICATED', message: '请先登录' } });
      }
      if (url.pathname === '/api/auth/me') {
        return json(200, {
          staffId: 5,
          username: 'reader',
          fullName: '李强',
          roleCode: 'reader',
          permissions: ['reading.field'],
        });
      }
      if (url.pathname === '/api/auth/logout') {
        signedIn = false;
        return json(200, {});
      }
      if (url.pathname === '/api/field/route') {
        return json(200, demoRoute(url.searchParams.get('date') ?? '2026-03-02'));
      }
      if (url.pathname === '/api/field/readings' && req.method === 'POST') {
        requests.readings++;
        const { readings } = (await body(req)) as { readings: MockReading[] };
        const results = readings.map((r) => {
          const seen = byClient.get(r.clientId);
          if (seen)
            return { clientId: r.clientId, outcome: 'duplicate', readingId: seen.readingId, flags: [] };
          const key = `${r.accountId}:${r.meterId}`;
          const other = byMeter.get(key);
          const outcome =
            other && other.index !== r.index ? 'conflict' : r.anomalyCodes.length ? 'review' : 'accepted';
          stored.push(r);
          byMeter.set(key, r);
          const readingId = stored.length;
          byClient.set(r.clientId, { outcome, readingId });
          return { clientId: r.clientId, outcome, readingId, flags: [] };
        });
        return json(200, { results });
      }
      if (url.pathname.startsWith('/api/'))
        return json(404, { error: { code: 'NOT_FOUND', message: 'mock' } });
      let rel = url.pathname.replace(/^\/field\/?/, '');
      if (!rel || !path.extname(rel)) rel = 'index.html';
      const file = path.join(FIELD_DIST, path.normalize(rel));
      const data = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(data);
    } catch {
      res.writeHead(404);
      res.end('Not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stored,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
