import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';

let t: TestApp;
let accountId: number;

beforeAll(async () => {
  t = await createTestApp({ customers: 20 });
  const office = await t.db
    .selectFrom('office')
    .select('office_id')
    .where('code', '=', '0101')
    .executeTakeFirstOrThrow();
  accountId = (
    await t.db
      .selectFrom('customer')
      .select('account_id')
      .where('office_id', '=', office.office_id)
      .executeTakeFirstOrThrow()
  ).account_id;
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

describe('customer documents', () => {
  it('uploads a document under the data directory, lists it, serves it back, audits it', async () => {
    const body = multipart(
      { docType: 'property_certificate' },
      { name: '房产证.pdf', type: 'application/pdf', content: PDF },
    );
    const res = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/documents`,
      ...body,
    });
    expect(res.statusCode, res.body).toBe(201);
    const { documentId, sizeBytes } = res.json();
    expect(sizeBytes).toBe(PDF.length);

    const page = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}` })).json();
    expect(page.documents[0]).toMatchObject({
      document_id: documentId,
      doc_type: 'property_certificate',
      file_name: '房产证.pdf',
    });

    const file = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${accountId}/documents/${documentId}`,
    });
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(PDF)).toBe(true);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toContain(encodeURIComponent('房产证.pdf'));

    const audit = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/audit` })).json();
    expect(audit.items[0]).toMatchObject({ entity_type: 'document', action: 'upload' });
  });

  it('refuses unknown types, empty files and files over the configured size', async () => {
    const exe = multipart(
      { docType: 'other' },
      { name: 'virus.exe', type: 'application/octet-stream', content: 'MZ' },
    );
    const r1 = await t.as('clerk')({ method: 'POST', url: `/api/customers/${accountId}/documents`, ...exe });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().error.fields[0]).toMatchObject({ path: 'file', code: 'FILE_TYPE_NOT_ALLOWED' });

    const badType = multipart(
      { docType: 'selfie' },
      { name: 'a.pdf', type: 'application/pdf', content: PDF },
    );
    const r2 = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/documents`,
      ...badType,
    });
    expect(r2.json().error.fields[0]).toMatchObject({ path: 'docType', code: 'DOC_TYPE_UNKNOWN' });

    const empty = multipart({ docType: 'other' }, { name: 'a.pdf', type: 'application/pdf', content: '' });
    const r3 = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/documents`,
      ...empty,
    });
    expect(r3.json().error.fields[0]).toMatchObject({ path: 'file', code: 'FILE_EMPTY' });

    await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/documents.maxBytes',
      payload: { value: 1000, effectiveFrom: '2020-01-01' },
    });
    const big = multipart(
      { docType: 'other' },
      { name: 'big.pdf', type: 'application/pdf', content: Buffer.alloc(5000, 1) },
    );
    const r4 = await t.as('clerk')({ method: 'POST', url: `/api/customers/${accountId}/documents`, ...big });
    expect(r4.statusCode).toBe(413);
    expect(r4.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/documents.maxBytes',
      payload: { value: 20971520, effectiveFrom: '2020-01-01' },
    });
    const docs = await t.db
      .selectFrom('document')
      .select('file_name')
      .where('account_id', '=', accountId)
      .execute();
    expect(docs.map((d) => d.file_name)).toEqual(['房产证.pdf']);
  });

  it('withdraws a document: hidden from the customer file, kept for the record', async () => {
    const body = multipart(
      { docType: 'id_card' },
      { name: 'id.png', type: 'image/png', content: Buffer.from([137, 80, 78, 71]) },
    );
    const { documentId } = (
      await t.as('clerk')({ method: 'POST', url: `/api/customers/${accountId}/documents`, ...body })
    ).json();
    const del = await t.as('clerk')({
      method: 'DELETE',
      url: `/api/customers/${accountId}/documents/${documentId}`,
    });
    expect(del.statusCode).toBe(200);
    expect(
      (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/documents/${documentId}` }))
        .statusCode,
    ).toBe(404);
    const row = await t.db
      .selectFrom('document')
      .select('removed_at')
      .where('document_id', '=', documentId)
      .executeTakeFirstOrThrow();
    expect(row.removed_at).not.toBeNull();
    // A reader may look but not upload.
    const denied = await t.as('reader')({
      method: 'POST',
      url: `/api/customers/${accountId}/documents`,
      ...body,
    });
    expect(denied.statusCode).toBe(403);
  });
});

describe('audit search', () => {
  it('finds entries by entity, action, staff and date, newest first; only for audit.search roles', async () => {
    const staff = await t.db
      .selectFrom('staff')
      .select('staff_id')
      .where('username', '=', 'clerk')
      .executeTakeFirstOrThrow();
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const res = await t.as('admin')({
      method: 'GET',
      url: `/api/audit?entityType=document&action=upload&staffId=${staff.staff_id}&from=${today}&to=${today}`,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total).toBe(2);
    expect(
      body.items.every(
        (i: { action: string; username: string }) => i.action === 'upload' && i.username === 'clerk',
      ),
    ).toBe(true);
    expect(new Date(body.items[0].at).getTime()).toBeGreaterThanOrEqual(new Date(body.items[1].at).getTime());
    const yesterday = (await t.as('admin')({ method: 'GET', url: '/api/audit?to=2020-01-01' })).json();
    expect(yesterday.total).toBe(0);
    expect((await t.as('clerk')({ method: 'GET', url: '/api/audit' })).statusCode).toBe(403);
    const bad = await t.as('admin')({ method: 'GET', url: '/api/audit?from=2026-02-30' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields[0]).toMatchObject({ path: 'from', code: 'DATE_INVALID' });
  });
});
