import type { TariffVersion } from '@meterline/domain';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart, type ChartOption } from '../components/Chart';
import { yuanNumber } from './tariffForm';

const CHARGE = '#1677ff';
const ALL_IN = '#fa8c16';

/** The axis end: up to the next half or whole power of ten (338 → 350, 1 234 → 1 500). */
function niceCeil(x: number): number {
  const step = 10 ** Math.floor(Math.log10(x)) / 2;
  return Math.ceil(x / step) * step;
}

/** Rounded for display: the chart's numbers are never used for money. */
const shown = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * The price of the next m³ against the volume used (the block staircase, 阶梯): the main charge and
 * the price with every surcharge, over a year's volume for annual blocks or a month's for monthly
 * ones. `markM3` marks where a previewed bill ends up on the scale.
 */
export function TariffStaircase({
  version,
  markM3,
  height = 260,
}: {
  version: TariffVersion | null;
  markM3?: number | null;
  height?: number;
}) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption>(() => {
    if (!version) return {};
    const surchargeYuan = version.surcharges.reduce((s, x) => s + (yuanNumber(x.priceFenPerM3) || 0), 0);
    const steps: { fromM3: number; toM3: number | null; yuan: number }[] =
      version.charge.kind === 'flat'
        ? [{ fromM3: 0, toM3: null, yuan: yuanNumber(version.charge.priceFenPerM3) }]
        : version.charge.blocks.map((b) => ({
            fromM3: Number(b.fromM3),
            toM3: b.toM3 === null || b.toM3 === '' ? null : Number(b.toM3),
            yuan: yuanNumber(b.priceFenPerM3),
          }));
    const lastBound = Math.max(
      0,
      ...steps.flatMap((s) => [s.fromM3, s.toM3 ?? 0]).filter((x) => Number.isFinite(x)),
      markM3 ?? 0,
    );
    const end = niceCeil(lastBound > 0 ? lastBound * 1.3 : 100);
    const points = (extra: number) =>
      steps.flatMap((s) => {
        const y = Number.isFinite(s.yuan) ? shown(s.yuan + extra) : null;
        return [
          [Number.isFinite(s.fromM3) ? s.fromM3 : 0, y],
          [s.toM3 ?? end, y],
        ];
      });
    const annual = version.charge.kind === 'blocks' && version.charge.basis === 'annual';
    const monthly = version.charge.kind === 'blocks' && version.charge.basis === 'monthly';
    const axisName = annual
      ? t('tariffs.chart.annualVolume')
      : monthly
        ? t('tariffs.chart.monthlyVolume')
        : t('tariffs.chart.volume');
    return {
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v: number) =>
          v === null || v === undefined ? '—' : `${v} ${t('tariffs.yuanPerM3')}`,
      },
      legend: { top: 0 },
      grid: { left: 8, right: 24, bottom: 30, top: 36, containLabel: true },
      xAxis: { type: 'value', name: axisName, nameLocation: 'middle', nameGap: 26, min: 0, max: end },
      yAxis: { type: 'value', name: t('tariffs.yuanPerM3'), min: 0 },
      series: [
        {
          name: t('tariffs.chart.charge'),
          type: 'line',
          symbol: 'none',
          lineStyle: { width: 2, color: CHARGE },
          itemStyle: { color: CHARGE },
          areaStyle: { opacity: 0.08, color: CHARGE },
          data: points(0),
          markLine:
            markM3 !== null && markM3 !== undefined && Number.isFinite(markM3)
              ? {
                  symbol: 'none',
                  lineStyle: { type: 'dashed', color: '#52c41a' },
                  label: { formatter: `${shown(markM3)} m³`, position: 'insideEndTop' },
                  data: [{ xAxis: markM3 }],
                }
              : undefined,
        },
        ...(version.surcharges.length > 0
          ? [
              {
                name: t('tariffs.chart.allIn'),
                type: 'line',
                symbol: 'none',
                lineStyle: { width: 2, type: 'dashed', color: ALL_IN },
                itemStyle: { color: ALL_IN },
                data: points(surchargeYuan),
              },
            ]
          : []),
      ],
    };
  }, [version, markM3, t]);
  if (!version) return null;
  return <Chart option={option} height={height} label={t('tariffs.chart.title')} testId="tariff-chart" />;
}
