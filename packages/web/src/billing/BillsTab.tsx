import { EditOutlined, FilePdfOutlined } from '@ant-design/icons';
import { fenToYuan, formatFenAsYuan } from '@meterline/domain';
import { Alert, Button, Card, Descriptions, Empty, Space, Spin, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { volume } from '../reading/common';
import { BillCorrectionDialog } from './BillCorrectionDialog';
import type { Bilingual, BillDetail, BillLineRow, BillPage, BillRow } from './billTypes';
import { yuan } from './money';
import { type BillMoneyFields, OtherChargeDialog } from './OtherChargeDialog';
import { openPdf } from './pdf';
import { VolumeAdjustmentDialog } from './VolumeAdjustmentDialog';

/** The bill a rebill replaces (the server sends replacesBillId with every bill). */
const replacesOf = (b: BillRow): number | null =>
  (b as BillRow & { replacesBillId?: number | null }).replacesBillId ?? null;

/** Bills the tab loads: ten years of monthly bills of one meter. */
const BILLS_LOADED = 120;
/** Periods the chart shows, the latest ones. */
const CHART_PERIODS = 24;

/** Fen per m³ as yuan per m³: '210' → '2.10'. */
export function unitPrice(fen: string | null): string {
  return fen === null ? '—' : (fenToYuan(fen) ?? fen);
}

export function useBilingual(): (text: Bilingual | null | undefined) => string {
  const { i18n } = useTranslation();
  return (text) => (text ? (i18n.language === 'en' ? text.en : text['zh-CN']) : '—');
}

/** The lines of a bill: blocks, surcharges and minimum top-ups, with volume, price and amount. */
export function BillLines({ lines, totalFen }: { lines: BillLineRow[]; totalFen: number }) {
  const { t } = useTranslation();
  const text = useBilingual();
  return (
    <Table<BillLineRow>
      rowKey="lineNo"
      size="small"
      pagination={false}
      dataSource={lines}
      data-testid="bill-lines"
      columns={[
        { title: t('bills.line.item'), key: 'd', render: (_, l) => text(l.description) },
        {
          title: t('bills.line.volume'),
          dataIndex: 'volumeM3',
          align: 'right',
          width: 110,
          render: (v: string, l) => (l.unitPriceFen === null ? '—' : volume(v)),
        },
        {
          title: t('bills.line.unitPrice'),
          dataIndex: 'unitPriceFen',
          align: 'right',
          width: 120,
          render: (v: string | null) => unitPrice(v),
        },
        {
          title: t('bills.line.amount'),
          dataIndex: 'amountFen',
          align: 'right',
          width: 120,
          render: (v: number) => formatFenAsYuan(v),
        },
        {
          title: t('bills.line.days'),
          key: 'days',
          width: 200,
          render: (_, l) => (l.from ? `${l.from} ~ ${l.to}` : '—'),
        },
        { title: t('bills.line.tariffVersion'), dataIndex: 'tariffVersion', width: 110 },
      ]}
      summary={() => (
        <Table.Summary.Row>
          <Table.Summary.Cell index={0} colSpan={3}>
            <Typography.Text strong>{t('bills.total')}</Typography.Text>
          </Table.Summary.Cell>
          <Table.Summary.Cell index={3} align="right">
            <Typography.Text strong>{formatFenAsYuan(totalFen)}</Typography.Text>
          </Table.Summary.Cell>
          <Table.Summary.Cell index={4} colSpan={2} />
        </Table.Summary.Row>
      )}
    />
  );
}

/** An expanded bill: its lines, the reading it came from and the calculation explained step by step. */
function BillExpanded({ bill }: { bill: BillRow }) {
  const { t } = useTranslation();
  const text = useBilingual();
  const detail = useApi<BillDetail>(`/api/customers/${bill.accountId}/bills/${bill.billId}`);
  const reading = detail.data?.reading;
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid={`bill-detail-${bill.billNo}`}>
      <BillLines lines={bill.lines} totalFen={bill.amountFen} />
      {detail.error && <Alert type="error" showIcon message={detail.error.message} />}
      {detail.loading && !detail.data ? (
        <Spin size="small" />
      ) : (
        detail.data && (
          <>
            <Descriptions size="small" column={{ xs: 1, md: 3 }} bordered>
              <Descriptions.Item label={t('bills.usageType')}>{text(bill.usageTypeName)}</Descriptions.Item>
              <Descriptions.Item label={t('bills.meterNo')}>{bill.meterNo ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('bills.periodDays')}>
                {bill.periodFrom} ~ {bill.periodTo}
              </Descriptions.Item>
              <Descriptions.Item label={t('bills.indexes')}>
                {volume(bill.startIndex)} → {volume(bill.endIndex)}
              </Descriptions.Item>
              <Descriptions.Item label={t('bills.reading')}>
                {reading
                  ? `${formatDateTime(reading.readAt)} ${t(`reading.kind.${reading.kind}`)}${
                      reading.readerName ? ` · ${reading.readerName}` : ''
                    }`
                  : t('bills.noReading')}
              </Descriptions.Item>
              {bill.blockYear !== null && (
                <Descriptions.Item label={t('bills.annualBlocks', { year: bill.blockYear })} span={3}>
                  {t('bills.annualBlocksUsed', {
                    before: volume(bill.blockUsedBeforeM3),
                    after: volume(bill.blockUsedAfterM3),
                  })}
                </Descriptions.Item>
              )}
              {bill.status === 'cancelled' && (
                <Descriptions.Item label={t('bills.cancelReason')} span={3}>
                  {bill.cancelReason || '—'}
                </Descriptions.Item>
              )}
            </Descriptions>
            <Card size="small" title={t('bills.explanation')}>
              <ol style={{ margin: 0, paddingInlineStart: 20 }} data-testid="bill-explanation">
                {detail.data.explanation.map((step, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the steps are a fixed, ordered list.
                  <li key={i}>{text(step)}</li>
                ))}
              </ol>
            </Card>
          </>
        )
      )}
    </Space>
  );
}

/** Amount (bars, yuan) and payable volume (line, m³) by period, oldest first, standing bills only. */
function BillsChart({ bills }: { bills: BillRow[] }) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption | null>(() => {
    const byPeriod = new Map<string, { fen: number; litres: number }>();
    for (const b of bills) {
      if (b.status !== 'open') continue;
      const p = byPeriod.get(b.period) ?? { fen: 0, litres: 0 };
      p.fen += b.amountFen;
      // Whole litres add up exactly; m³ have at most three decimals.
      p.litres += Math.round(Number(b.payableM3) * 1000);
      byPeriod.set(b.period, p);
    }
    const periods = [...byPeriod.keys()].sort().slice(-CHART_PERIODS);
    if (periods.length === 0) return null;
    const rows = periods.map((p) => byPeriod.get(p)!);
    return {
      tooltip: {
        trigger: 'axis',
        formatter: (items: { dataIndex: number }[]) => {
          const i = items[0]?.dataIndex ?? 0;
          const r = rows[i]!;
          return `${periods[i]}<br/>${t('bills.amount')}: ${yuan(r.fen)}<br/>${t('bills.payable')}: ${
            r.litres / 1000
          } m³`;
        },
      },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: periods },
      yAxis: [
        { type: 'value', name: t('bills.yuanUnit') },
        { type: 'value', name: 'm³', splitLine: { show: false } },
      ],
      series: [
        {
          name: t('bills.amount'),
          type: 'bar',
          barMaxWidth: 32,
          data: rows.map((r) => r.fen / 100),
        },
        {
          name: t('bills.payable'),
          type: 'line',
          yAxisIndex: 1,
          data: rows.map((r) => r.litres / 1000),
        },
      ],
    };
  }, [bills, t]);
  if (!option) return null;
  return <Chart option={option} height={220} label={t('bills.chartTitle')} testId="bills-chart" />;
}

/**
 * The customer's bills (账单): amount and volume by period, the bills with their lines on expanding
 * (with the reading and the explanation of the calculation), and each bill's notice as a PDF.
 */
export function BillsTab({ accountId }: { accountId: number }) {
  const { t } = useTranslation();
  const bills = useApi<BillPage>(`/api/customers/${accountId}/bills`, { pageSize: BILLS_LOADED });
  const items = bills.data?.items ?? [];
  // Other charges (docs/billing.md "Late fees and other charges"): the 新增其他费用 dialog.
  const [charging, setCharging] = useState(false);
  // Cancel-and-rebill (docs/billing.md "Corrections"): who may ask, the bill asked about, and the links.
  const { can } = useAuth();
  const [correcting, setCorrecting] = useState<BillRow | null>(null);
  // Volume adjustments (调量 / 补量): on a bill, or a supplement over a period never billed (null).
  const [adjusting, setAdjusting] = useState<{ bill: BillRow | null } | null>(null);
  const meters = useMemo(
    () => [
      ...new Map(
        items.flatMap((b) =>
          b.meterId && b.meterNo ? [[b.meterId, { meterId: b.meterId, meterNo: b.meterNo }]] : [],
        ),
      ).values(),
    ],
    [items],
  );
  const billNoById = new Map(items.map((b) => [b.billId, b.billNo]));
  const replacedBy = new Map(
    items.flatMap((b) => (replacesOf(b) ? [[replacesOf(b), b.billNo] as const] : [])),
  );

  const columns: ColumnsType<BillRow> = [
    { title: t('bills.period'), dataIndex: 'period', width: 80 },
    {
      title: t('bills.billNo'),
      dataIndex: 'billNo',
      width: 150,
      onCell: () => ({ style: { whiteSpace: 'nowrap' } }),
      render: (v: string, b) =>
        b.status === 'cancelled' ? (
          <Space direction="vertical" size={0} data-testid={`bill-cancelled-${v}`}>
            <Typography.Text delete>{v}</Typography.Text>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('billCorrections.cancelledBy', { reason: b.cancelReason || '—' })}
            </Typography.Text>
            {replacedBy.has(b.billId) && (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('billCorrections.replacedBy', { billNo: replacedBy.get(b.billId) })}
              </Typography.Text>
            )}
          </Space>
        ) : replacesOf(b) ? (
          <Space direction="vertical" size={0}>
            <span>{v}</span>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('billCorrections.replaces', {
                billNo: billNoById.get(replacesOf(b) ?? 0) ?? replacesOf(b),
              })}
            </Typography.Text>
          </Space>
        ) : (
          v
        ),
    },
    // The meter only matters to a customer with several.
    ...(new Set(items.map((b) => b.meterNo)).size > 1
      ? [
          {
            title: t('bills.meterNo'),
            dataIndex: 'meterNo',
            width: 110,
            render: (v: string | null) => v ?? '—',
          },
        ]
      : []),
    {
      title: t('bills.consumption'),
      dataIndex: 'consumptionM3',
      align: 'right',
      width: 80,
      render: (v: string) => volume(v),
    },
    {
      title: t('bills.subMeters'),
      dataIndex: 'subMetersM3',
      align: 'right',
      width: 80,
      render: (v: string) => volume(v),
    },
    {
      title: t('bills.lowIncome'),
      dataIndex: 'lowIncomeM3',
      align: 'right',
      width: 80,
      render: (v: string) => volume(v),
    },
    {
      title: t('bills.payable'),
      dataIndex: 'payableM3',
      align: 'right',
      width: 80,
      render: (v: string) => <Typography.Text strong>{volume(v)}</Typography.Text>,
    },
    {
      title: t('bills.amount'),
      dataIndex: 'amountFen',
      align: 'right',
      width: 110,
      render: (v: number) => <Typography.Text strong>{yuan(v)}</Typography.Text>,
    },
    { title: t('bills.dueOn'), dataIndex: 'dueOn', width: 100 },
    {
      title: t('charges.lateFee.column'),
      key: 'lateFee',
      align: 'right',
      width: 100,
      render: (_, b) => {
        const fee = (b as BillRow & BillMoneyFields).lateFeeFen ?? 0;
        return fee > 0 ? (
          <Typography.Text type="danger" data-testid={`late-fee-${b.billNo}`}>
            {yuan(fee)}
          </Typography.Text>
        ) : (
          '—'
        );
      },
    },
    {
      title: t('bills.status'),
      dataIndex: 'status',
      width: 80,
      render: (s: BillRow['status'], b) => (
        <Space size={2}>
          <Tag color={s === 'open' ? 'blue' : 'default'}>{t(`bills.statusName.${s}`)}</Tag>
          {b.kind === 'adjustment' && <Tag color="purple">{t('adjustments.billTag')}</Tag>}
        </Space>
      ),
    },
    {
      title: t('common.actions'),
      key: 'actions',
      // The notice, and for those who may adjust: cancel-and-rebill and 调量/补量.
      width: can('billing.adjust') ? 300 : 96,
      fixed: 'right',
      render: (_, b) => (
        <Space size="small">
          <Button
            size="small"
            icon={<FilePdfOutlined />}
            onClick={(e) => {
              e.stopPropagation();
              openPdf(b.noticeUrl);
            }}
            data-testid={`notice-${b.billNo}`}
          >
            {t('bills.notice')}
          </Button>
          {b.status === 'open' && b.kind === 'consumption' && can('billing.adjust') && (
            <Button
              size="small"
              icon={<EditOutlined />}
              onClick={(e) => {
                e.stopPropagation();
                setCorrecting(b);
              }}
              data-testid={`correct-${b.billNo}`}
            >
              {t('billCorrections.correct')}
            </Button>
          )}
          {b.status === 'open' && b.kind === 'consumption' && can('billing.adjust') && (
            <Button
              size="small"
              onClick={(e) => {
                e.stopPropagation();
                setAdjusting({ bill: b });
              }}
              data-testid={`adjust-${b.billNo}`}
            >
              {t('adjustments.new')}
            </Button>
          )}
        </Space>
      ),
    },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="bills-tab">
      {bills.error && <Alert type="error" showIcon message={bills.error.message} />}
      {can('billing.adjust') && (
        <Space>
          <Button onClick={() => setCharging(true)} data-testid="add-other-charge">
            {t('charges.charge.button')}
          </Button>
          {meters.length > 0 && (
            <Button onClick={() => setAdjusting({ bill: null })} data-testid="add-supplement">
              {t('adjustments.newSupplementButton')}
            </Button>
          )}
        </Space>
      )}
      <OtherChargeDialog
        accountId={accountId}
        open={charging}
        onClose={() => setCharging(false)}
        onCharged={() => {
          setCharging(false);
          bills.reload();
        }}
      />
      {items.length > 0 && (
        <Card size="small" title={t('bills.chartTitle')}>
          <BillsChart bills={items} />
        </Card>
      )}
      <Table<BillRow>
        rowKey="billId"
        size="small"
        loading={bills.loading}
        dataSource={items}
        columns={columns}
        scroll={{ x: 'max-content' }}
        pagination={{ pageSize: 12, hideOnSinglePage: true, showSizeChanger: false }}
        locale={{ emptyText: <Empty description={t('bills.empty')} /> }}
        expandable={{ expandedRowRender: (b) => <BillExpanded bill={b} />, expandRowByClick: true }}
      />
      <VolumeAdjustmentDialog
        accountId={accountId}
        bill={adjusting?.bill ?? null}
        meters={meters}
        open={adjusting !== null}
        onClose={() => setAdjusting(null)}
        onDone={() => setAdjusting(null)}
      />
      <BillCorrectionDialog
        bill={correcting}
        onClose={() => setCorrecting(null)}
        onRequested={() => {
          setCorrecting(null);
          bills.reload();
        }}
      />
      {bills.data && bills.data.total > items.length && (
        <Typography.Text type="secondary">
          {t('bills.showingLatest', { shown: items.length, total: bills.data.total })}
        </Typography.Text>
      )}
    </Space>
  );
}
