import { chinaDateTime, REGISTER_EXCEPTION_BITS, registerFlagNames } from '@meterline/domain';
import { Alert, Card, Empty, Segmented, Space, Statistic, Tag, Typography } from 'antd';
import { memo, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useReducedMotion } from '../components/useReducedMotion';
import { useAnomalyName, volume } from './common';

/**
 * A customer's smart-meter register reads (远传日读数) on the readings tab: per meter, the use per day
 * of each read as bars (exceptions in red) against the expected use per day, and the meter's usual
 * daily use. Shows nothing for a customer without register reads.
 */

/** One register read as GET /api/customers/:accountId/registers gives it (volumes in m³, 3 decimals). */
export interface RegisterRead {
  readAt: string;
  indexValue: string;
  /** Since the meter's reference read (null: none, or the register went backwards). */
  consumptionM3: string | null;
  /** Whole days since the reference read (0: the same day). */
  days: number | null;
  expectedM3: string | null;
  flags: string[];
  anomalyCodes: string[];
}

export interface RegisterMeter {
  meterId: number;
  meterNo: string;
  /** The meter's usual daily use now (null: not known yet). */
  dailyM3: string | null;
  /** Oldest first. */
  reads: RegisterRead[];
}

/** The flags that make a read an exception (the domain's rule); ZERO and LATE only inform. */
export const EXCEPTION_FLAGS: readonly string[] = registerFlagNames(REGISTER_EXCEPTION_BITS);

const FLAG_COLORS: Record<string, string> = {
  BELOW_PREVIOUS: 'red',
  ROLLOVER: 'purple',
  HIGH: 'volcano',
  ANOMALY: 'magenta',
  ZERO: 'default',
  LATE: 'blue',
};

/** A register read's flags as tags, named in the UI language. */
export function RegisterFlagTags({ flags }: { flags: string[] }) {
  const { t } = useTranslation();
  return (
    <>
      {flags.map((f) => (
        <Tag key={f} color={FLAG_COLORS[f] ?? 'default'} data-flag={f}>
          {t(`registers.flag.${f}`, { defaultValue: f })}
        </Tag>
      ))}
    </>
  );
}

/** The day spans the customer's register reads can be shown over. */
const DAY_CHOICES = [30, 90, 365] as const;
const DEFAULT_DAYS = 90;

/** Up to this many reads the expected line marks each read's point. */
const SYMBOL_READS = 31;

const NORMAL = '#1677ff';
const EXCEPTION = '#f5222d';
const EXPECTED = '#52c41a';

/** A volume over `days` days as m³ a day (a read on the day of its reference counts as one day). */
function perDay(volumeM3: string | null, days: number | null): number | null {
  if (volumeM3 === null) return null;
  return Number((Number(volumeM3) / Math.max(1, days ?? 1)).toFixed(3));
}

/** Whether a read is an exception for the analyst. */
function isException(r: RegisterRead): boolean {
  return r.flags.some((f) => EXCEPTION_FLAGS.includes(f));
}

/** The use per day of a meter's register reads, oldest first, against the expected use per day. */
export function RegisterChart({ meter, height = 220 }: { meter: RegisterMeter; height?: number }) {
  const { t } = useTranslation();
  const reducedMotion = useReducedMotion();
  const anomalyName = useAnomalyName();
  const option = useMemo<ChartOption>(() => {
    const reads = meter.reads;
    const at = reads.map((r) => chinaDateTime(r.readAt));
    // Daily freezes are read at midnight: the day says it all; more frequent reads show their time.
    const midnight = at.every((a) => a.slice(11, 16) === '00:00');
    const label = (a: string) => (midnight ? a.slice(5, 10) : a.slice(5, 16));
    return {
      animation: !reducedMotion,
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (items: { dataIndex: number }[]) => {
          const i = items[0]?.dataIndex ?? 0;
          const r = reads[i];
          if (!r) return '';
          const lines = [
            `${t('registers.chart.readAt')}: ${at[i]}`,
            `${t('registers.chart.index')}: ${volume(r.indexValue)}`,
            `${t('registers.chart.consumption')}: ${
              r.consumptionM3 === null
                ? '—'
                : t('registers.chart.overDays', { consumption: volume(r.consumptionM3), days: r.days ?? '—' })
            }`,
            `${t('registers.chart.use')}: ${perDay(r.consumptionM3, r.days) ?? '—'} ${t('registers.chart.perDay')}`,
            `${t('registers.chart.expected')}: ${perDay(r.expectedM3, r.days) ?? '—'} ${t('registers.chart.perDay')}`,
          ];
          const named = [
            ...r.flags.map((f) => t(`registers.flag.${f}`, { defaultValue: f })),
            ...r.anomalyCodes.map(anomalyName),
          ];
          if (named.length) lines.push(named.join(' · '));
          return lines.join('<br/>');
        },
      },
      legend: { show: false },
      grid: { left: 8, right: 16, bottom: 8, top: 28, containLabel: true },
      xAxis: { type: 'category', data: at.map(label) },
      yAxis: { type: 'value', name: t('registers.chart.perDay') },
      series: [
        {
          name: t('registers.chart.use'),
          type: 'bar',
          barMaxWidth: 24,
          data: reads.map((r) => ({
            value: perDay(r.consumptionM3, r.days),
            itemStyle: { color: isException(r) ? EXCEPTION : NORMAL },
          })),
        },
        {
          name: t('registers.chart.expected'),
          type: 'line',
          // A few reads: each point shown (a line of two points says little without them).
          showSymbol: reads.length <= SYMBOL_READS,
          lineStyle: { type: 'dashed', color: EXPECTED },
          itemStyle: { color: EXPECTED },
          data: reads.map((r) => perDay(r.expectedM3, r.days)),
        },
      ],
    };
  }, [meter, reducedMotion, t, anomalyName]);
  return (
    <Chart
      option={option}
      height={height}
      label={t('registers.chart.label', { meterNo: meter.meterNo })}
      testId="register-chart"
    />
  );
}

/**
 * The customer's register reads over the last 30, 90 or 365 days, a card per meter (only the meter
 * `meterId` when given). Nothing at all for a customer the smart meters' platform never reported.
 * Memoised: the readings tab re-renders as its forms are typed in, and the charts need not.
 */
export const RegisterReads = memo(function RegisterReads({
  accountId,
  meterId,
}: {
  accountId: number;
  meterId?: number;
}) {
  const { t } = useTranslation();
  const [days, setDays] = useState<number>(DEFAULT_DAYS);
  const registers = useApi<{ meters: RegisterMeter[] }>(`/api/customers/${accountId}/registers`, { days });
  // Once the customer has shown register reads, a shorter span without any keeps the day choice.
  const [seen, setSeen] = useState(false);
  const meters = registers.data?.meters ?? [];
  useEffect(() => {
    if (meters.length > 0) setSeen(true);
  }, [meters.length]);

  // A server without register reads answers 404: nothing to show, as for a customer without any.
  if (registers.error && registers.error.status !== 404)
    return <Alert type="error" showIcon message={registers.error.message} />;
  if (!seen && meters.length === 0) return null;

  const shown = meterId === undefined ? meters : meters.filter((m) => m.meterId === meterId);
  const daysChoice = (
    <Segmented<number>
      size="small"
      value={days}
      onChange={setDays}
      aria-label={t('registers.chart.days')}
      data-testid="register-days"
      options={DAY_CHOICES.map((d) => ({ value: d, label: t('registers.chart.daysOption', { days: d }) }))}
    />
  );
  if (shown.length === 0)
    return (
      <Card size="small" title={t('registers.chart.title')} extra={daysChoice}>
        <Empty description={t('registers.chart.noReads')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
      </Card>
    );

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      {shown.map((m) => (
        <Card
          key={m.meterId}
          size="small"
          data-testid="register-card"
          data-meter-no={m.meterNo}
          data-reads={m.reads.length}
          data-exceptions={m.reads.filter(isException).length}
          title={
            <Space size={8} wrap>
              {t('registers.chart.title')}
              <Typography.Text type="secondary">{m.meterNo}</Typography.Text>
              <Typography.Text type="secondary">
                {t('registers.chart.reads', { count: m.reads.length })}
              </Typography.Text>
            </Space>
          }
          extra={daysChoice}
        >
          <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap', alignItems: 'flex-start' }}>
            <Space direction="vertical" size="small" style={{ minWidth: 140 }}>
              <Statistic
                title={t('registers.chart.daily')}
                value={m.dailyM3 === null ? '—' : volume(m.dailyM3)}
                suffix={m.dailyM3 === null ? undefined : t('registers.chart.perDay')}
                data-testid="register-daily"
              />
              <Space size={4} wrap>
                <Tag color={NORMAL}>{t('registers.chart.use')}</Tag>
                <Tag color={EXCEPTION}>{t('registers.chart.exception')}</Tag>
                <Tag color={EXPECTED}>{t('registers.chart.expected')}</Tag>
              </Space>
            </Space>
            <div style={{ flex: 1, minWidth: 280 }}>
              {m.reads.length > 0 ? (
                <RegisterChart meter={m} />
              ) : (
                <Empty description={t('registers.chart.noReads')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
              )}
            </div>
          </div>
        </Card>
      ))}
    </Space>
  );
});
