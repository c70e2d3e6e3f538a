import { Typography } from 'antd';
import type { TFunction } from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

type Json = Record<string, unknown> | null | undefined;

const MAX_VALUE_CHARS = 120;
/** Longer entries (a creation lists every field) show this many lines until expanded. */
const COLLAPSED_LINES = 6;

/** Bookkeeping columns a clerk does not need in the history (the audit search shows the raw JSON). */
const HIDDEN = new Set([
  'account_id',
  'contact_id',
  'entry_id',
  'event_id',
  'meter_id',
  'document_id',
  'search_key',
  'created_at',
  'updated_at',
  'recorded_at',
  'created_by',
  'updated_by',
  'listed_by',
  'lifted_by',
  'recorded_by',
  'removed_by',
  'uploaded_by',
  'storage_path',
  'sha256',
]);

/** Fields whose values are codes with words in the UI language. */
const ENUM_OF: Record<string, string> = {
  state: 'enum.state',
  from_state: 'enum.state',
  to_state: 'enum.state',
  relation: 'enum.relation',
  category: 'enum.blacklistCategory',
  role: 'enum.meterRole',
  mounting: 'enum.mounting',
  direction: 'enum.direction',
  utility: 'enum.utility',
  notice_delivery: 'enum.noticeDelivery',
  doc_type: 'enum.docType',
};

/** `sealNo` → `seal_no`: request bodies are camelCase, table rows snake_case; one label serves both. */
function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function show(t: TFunction, key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '∅';
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (typeof value === 'string' && ENUM_OF[key])
    return t(`${ENUM_OF[key]}.${value}`, { defaultValue: value });
  if (typeof value === 'object') {
    const s = JSON.stringify(value);
    return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}…` : s;
  }
  return String(value);
}

function asObject(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * A readable before → after of an audit entry: one line per changed field, with field names and
 * coded values in the UI language. Creations list what was written; removals what was removed.
 */
export function AuditDiff({ before, after }: { before: unknown; after: unknown }) {
  const { t } = useTranslation();
  const [expanded, setExpanded] = useState(false);
  const b = asObject(before);
  const a = asObject(after);
  if (!b && !a) return <Typography.Text type="secondary">—</Typography.Text>;
  const keys = [...new Set([...Object.keys(b ?? {}), ...Object.keys(a ?? {})])].filter(
    (k) => !HIDDEN.has(snake(k)),
  );
  const shown = expanded ? keys : keys.slice(0, COLLAPSED_LINES);
  const label = (key: string) => t(`field.${snake(key)}`, { defaultValue: key });
  return (
    <ul className="audit-diff" style={{ margin: 0, paddingLeft: 16 }}>
      {shown.map((key) => (
        <li key={key}>
          <Typography.Text strong>{label(key)}</Typography.Text>
          {': '}
          {b && a ? (
            <>
              <Typography.Text delete type="secondary">
                {show(t, snake(key), b[key])}
              </Typography.Text>
              {' → '}
              <Typography.Text>{show(t, snake(key), a[key])}</Typography.Text>
            </>
          ) : (
            <Typography.Text type={a ? undefined : 'secondary'}>
              {show(t, snake(key), (a ?? b)?.[key])}
            </Typography.Text>
          )}
        </li>
      ))}
      {keys.length > COLLAPSED_LINES && (
        <li style={{ listStyle: 'none' }}>
          <Typography.Link onClick={() => setExpanded((v) => !v)}>
            {expanded ? t('audit.collapse') : t('audit.more', { count: keys.length - COLLAPSED_LINES })}
          </Typography.Link>
        </li>
      )}
    </ul>
  );
}
