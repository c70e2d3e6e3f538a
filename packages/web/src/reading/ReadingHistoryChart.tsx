import { chinaDateTime } from '@meterline/domain';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart, type ChartOption } from '../components/Chart';

export interface ChartReading {
  key: string | number;
  readAt: string;
  period?: string;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  /** Drawn in the highlight colour (the reading under review). */
  current?: boolean;
}

const ACTUAL = '#1677ff';
const ESTIMATED = '#bfbfbf';
const CURRENT = '#fa541c';

/**
 * Consumption by reading, oldest first: actual reads in blue, estimates grey and hatched in the
 * tooltip, the reading under review in orange; the expected volume as a dashed line.
 */
export function ReadingHistoryChart({
  readings,
  expectedM3,
  height = 220,
  testId,
}: {
  readings: ChartReading[];
  expectedM3?: string | null;
  height?: number;
  testId?: string;
}) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption>(() => {
    const sorted = [...readings].sort((a, b) => a.readAt.localeCompare(b.readAt));
    const label = (r: ChartReading) => r.period ?? chinaDateTime(r.readAt).slice(0, 7);
    return {
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (items: { dataIndex: number }[]) => {
          const r = sorted[items[0]?.dataIndex ?? 0];
          if (!r) return '';
          return `${label(r)}<br/>${chinaDateTime(r.readAt).slice(0, 10)}<br/>${t('reading.consumption')}: ${
            r.consumptionM3 ?? '—'
          } m³<br/>${t(`reading.kind.${r.kind}`)}`;
        },
      },
      legend: { show: false },
      grid: { left: 8, right: 16, bottom: 8, top: 24, containLabel: true },
      xAxis: { type: 'category', data: sorted.map(label) },
      yAxis: { type: 'value', name: 'm³' },
      series: [
        {
          name: t('reading.consumption'),
          type: 'bar',
          barMaxWidth: 36,
          data: sorted.map((r) => ({
            value: r.consumptionM3 === null ? null : Number(r.consumptionM3),
            itemStyle: {
              color: r.current ? CURRENT : r.kind === 'estimated' ? ESTIMATED : ACTUAL,
              borderColor: r.kind === 'estimated' ? '#8c8c8c' : undefined,
              borderType: r.kind === 'estimated' ? 'dashed' : undefined,
              borderWidth: r.kind === 'estimated' ? 1 : 0,
            },
            label:
              r.kind === 'estimated'
                ? {
                    show: true,
                    position: 'top',
                    formatter: t('reading.kindShort.estimated'),
                    color: '#8c8c8c',
                  }
                : undefined,
          })),
          markLine:
            expectedM3 !== undefined && expectedM3 !== null
              ? {
                  symbol: 'none',
                  lineStyle: { type: 'dashed', color: '#52c41a' },
                  label: {
                    formatter: `${t('reading.expected')} ${Number(expectedM3)} m³`,
                    position: 'insideStartTop',
                  },
                  data: [{ yAxis: Number(expectedM3) }],
                }
              : undefined,
        },
      ],
    };
  }, [readings, expectedM3, t]);
  return <Chart option={option} height={height} label={t('reading.historyChart')} testId={testId} />;
}
