import { todayInChina } from '@meterline/domain';
import { DatePicker, Select, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useMe } from '../auth/AuthContext';
import { useMeta } from '../components/meta';
import type { Rotation } from './types';

/** The office parameter's value for "every office in scope" (pages that can show them all). */
export const ALL_OFFICES = 'all';

/**
 * A page's office, kept in the URL (`?officeId=`) so a link or a reload shows the same office; it
 * starts at the caller's home office. With `allowAll`, `?officeId=all` means every office in the
 * caller's scope: the office is then undefined and `all` is true.
 */
export function useOfficeParam(
  opts: { allowAll?: boolean } = {},
): [number | undefined, (officeId: number | typeof ALL_OFFICES) => void, boolean] {
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const raw = params.get('officeId');
  const fromUrl = Number(raw);
  const offices = me?.offices ?? [];
  const home = offices.find((o) => o.officeId === me?.homeOfficeId)?.officeId ?? offices[0]?.officeId;
  const all = Boolean(opts.allowAll) && raw === ALL_OFFICES;
  const officeId = all ? undefined : offices.some((o) => o.officeId === fromUrl) ? fromUrl : home;
  const set = useCallback(
    (id: number | typeof ALL_OFFICES) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          next.set('officeId', String(id));
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  return [officeId, set, all];
}

/** A query parameter of the page kept in the URL, with a default. */
export function useParam(name: string, fallback: string): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(name) || fallback;
  const set = useCallback(
    (v: string) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          next.set(name, v);
          return next;
        },
        { replace: true },
      ),
    [name, setParams],
  );
  return [value, set];
}

export function OfficeSelect({
  value,
  onChange,
  allowAll,
}: {
  value: number | undefined;
  onChange: (officeId: number | typeof ALL_OFFICES) => void;
  /** Offer "all offices" (shown when value is undefined). */
  allowAll?: boolean;
}) {
  const { t } = useTranslation();
  const me = useMe();
  const options: { value: number | string; label: string }[] = (me?.offices ?? []).map((o) => ({
    value: o.officeId,
    label: `${o.code} ${o.name}`,
  }));
  if (allowAll && (me?.offices.length ?? 0) > 1)
    options.unshift({ value: ALL_OFFICES, label: t('reading.allOffices') });
  return (
    <Select<number | string>
      style={{ minWidth: 180 }}
      value={value ?? (allowAll ? ALL_OFFICES : undefined)}
      onChange={(v) => onChange(v === ALL_OFFICES ? ALL_OFFICES : Number(v))}
      placeholder={t('reading.office')}
      aria-label={t('reading.office')}
      data-testid="office-select"
      options={options}
    />
  );
}

/** A month as YYYY-MM, picked on a month picker. */
export function MonthInput({ value, onChange }: { value: string; onChange: (month: string) => void }) {
  const { t } = useTranslation();
  return (
    <DatePicker
      picker="month"
      allowClear={false}
      value={dayjs(`${value}-01`)}
      onChange={(d) => d && onChange(d.format('YYYY-MM'))}
      aria-label={t('reading.month')}
      data-testid="month-input"
    />
  );
}

export function thisMonth(): string {
  return todayInChina().slice(0, 7);
}

/** The 2-year rotation rule: nothing when fine, orange from two months before, red when over. */
export function RotationTag({ rotation }: { rotation: Rotation | null | undefined }) {
  const { t } = useTranslation();
  if (!rotation) return null;
  if (rotation.status === 'ok')
    return (
      <Typography.Text
        type="secondary"
        data-rotation="ok"
        title={t('reading.rotation.dueOn', { date: rotation.dueOn })}
      >
        {t('reading.rotation.dueShort', { date: rotation.dueOn })}
      </Typography.Text>
    );
  return (
    <Tag color={rotation.status === 'over' ? 'red' : 'orange'} data-rotation={rotation.status}>
      {t(`reading.rotation.${rotation.status}`)} {rotation.dueOn}
    </Tag>
  );
}

const FLAG_COLORS: Record<string, string> = {
  BELOW_PREVIOUS: 'red',
  ROLLOVER: 'purple',
  HIGH: 'volcano',
  LOW: 'gold',
  ZERO: 'default',
};

/** A reading's check flags (HIGH, LOW, BELOW_PREVIOUS…) as tags. */
export function FlagTags({ flags }: { flags: string[] | undefined }) {
  const { t } = useTranslation();
  return (
    <>
      {(flags ?? []).map((f) => (
        <Tag key={f} color={FLAG_COLORS[f] ?? 'blue'}>
          {t(`reading.flag.${f}`, { defaultValue: f })}
        </Tag>
      ))}
    </>
  );
}

/** A share 0–1 as a percentage with one decimal, or a dash. */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return `${(value * 100).toFixed(1)}%`;
}

/** m³ as the API sends it (a decimal string) without needless trailing zeros. */
export function volume(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = Number(value);
  return Number.isFinite(n) ? String(Number(n.toFixed(3))) : String(value);
}

/** Anomaly codes chosen on the handheld, named from the code list when the server gives it. */
export function AnomalyTags({ codes }: { codes: string[] | undefined }) {
  const { t, i18n } = useTranslation();
  const meta = useMeta();
  return (
    <>
      {(codes ?? []).map((code) => {
        const known = meta?.anomalyCodes?.find((a) => a.code === code);
        const name =
          (i18n.language === 'en' ? (known?.name_en ?? known?.nameEn) : (known?.name_zh ?? known?.nameZh)) ??
          t(`reading.anomaly.${code}`, { defaultValue: code });
        return (
          <Tag key={code} color="magenta">
            {name}
          </Tag>
        );
      })}
    </>
  );
}

/** The name of one anomaly code. */
export function useAnomalyName(): (code: string) => string {
  const { t, i18n } = useTranslation();
  const meta = useMeta();
  return (code) => {
    const known = meta?.anomalyCodes?.find((a) => a.code === code);
    return (
      (i18n.language === 'en' ? (known?.name_en ?? known?.nameEn) : (known?.name_zh ?? known?.nameZh)) ??
      t(`reading.anomaly.${code}`, { defaultValue: code })
    );
  };
}
