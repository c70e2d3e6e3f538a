import { type Bilingual, fenToYuan, formatFenAsYuan, type TariffVersion } from '@meterline/domain';
import { Alert, Card, Col, Form, Input, Row, Spin, Statistic, Switch, Table, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../api';
import { DateInput } from '../components/DateInput';
import { currentLang } from '../i18n';
import type { BillLine, PreviewBill } from './tariffForm';

export interface PreviewPeriod {
  from: string;
  to: string;
}

/** Waits this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 350;

/**
 * What a volume costs under the tariff as it stands in the editor (saved or not): calculateBill's
 * lines, total and explanation from POST /api/tariffs/preview, recomputed as either side changes.
 */
export function TariffPreview({
  usageType,
  tariff,
  period,
  onPosition,
}: {
  usageType: string;
  /** The edited tariff, as the API takes it. */
  tariff: { chargeName: Bilingual; versions: TariffVersion[] } | null;
  /** A period to start from (follows the version being edited). */
  period: PreviewPeriod;
  /** Where the bill ends on the block scale (annual usage after it), for the chart. */
  onPosition?: (m3: number | null) => void;
}) {
  const { t } = useTranslation();
  const lang = currentLang();
  const [volumeM3, setVolume] = useState('15');
  const [from, setFrom] = useState(period.from);
  const [to, setTo] = useState(period.to);
  const [annualUsedM3, setAnnualUsed] = useState('0');
  const [lowIncome, setLowIncome] = useState(false);
  const [reductionM3, setReduction] = useState('5');
  const [bill, setBill] = useState<PreviewBill | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const ticket = useRef(0);

  useEffect(() => {
    setFrom(period.from);
    setTo(period.to);
  }, [period.from, period.to]);

  const body = JSON.stringify({
    usageType,
    tariff: tariff ?? undefined,
    volumeM3: volumeM3.trim(),
    periodFrom: from,
    periodTo: to,
    annualUsedM3: annualUsedM3.trim() === '' ? undefined : annualUsedM3.trim(),
    lowIncome: lowIncome ? { reductionM3PerMonth: reductionM3.trim() } : null,
  });

  useEffect(() => {
    const mine = ++ticket.current;
    const controller = new AbortController();
    setBusy(true);
    const timer = setTimeout(() => {
      api<PreviewBill>('/api/tariffs/preview', {
        method: 'POST',
        body: JSON.parse(body),
        signal: controller.signal,
      })
        .then((b) => {
          if (mine !== ticket.current) return;
          setBill(b);
          setError(null);
        })
        .catch((e: unknown) => {
          if (mine !== ticket.current || (e as Error).name === 'AbortError') return;
          setBill(null);
          setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
        })
        .finally(() => {
          if (mine === ticket.current) setBusy(false);
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [body]);

  useEffect(() => {
    onPosition?.(bill ? Number(bill.annualBlockUsedAfter.volumeM3) : null);
  }, [bill, onPosition]);

  const fieldError = (path: string) => error?.fields.find((f) => f.path === path)?.message;
  const tariffProblems = error?.fields.filter((f) => f.path.startsWith('tariff.')) ?? [];

  return (
    <Card size="small" title={t('tariffs.preview.title')} data-testid="tariff-preview">
      <Form layout="vertical" component="div">
        <Row gutter={8}>
          <Col span={12}>
            <Form.Item
              label={t('tariffs.preview.volume')}
              validateStatus={fieldError('volumeM3') ? 'error' : undefined}
              help={fieldError('volumeM3')}
            >
              <Input
                value={volumeM3}
                onChange={(e) => setVolume(e.target.value)}
                suffix="m³"
                inputMode="decimal"
                data-testid="preview-volume"
              />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item
              label={t('tariffs.preview.annualUsed')}
              tooltip={t('tariffs.preview.annualUsedHint')}
              validateStatus={fieldError('annualUsedM3') ? 'error' : undefined}
              help={fieldError('annualUsedM3')}
            >
              <Input
                value={annualUsedM3}
                onChange={(e) => setAnnualUsed(e.target.value)}
                suffix="m³"
                inputMode="decimal"
                data-testid="preview-annual-used"
              />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item
              label={t('tariffs.preview.from')}
              validateStatus={fieldError('periodFrom') ? 'error' : undefined}
              help={fieldError('periodFrom')}
            >
              <DateInput value={from} onChange={(d) => d && setFrom(d)} allowClear={false} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item
              label={t('tariffs.preview.to')}
              validateStatus={fieldError('periodTo') ? 'error' : undefined}
              help={fieldError('periodTo')}
            >
              <DateInput value={to} onChange={(d) => d && setTo(d)} allowClear={false} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item label={t('tariffs.preview.lowIncome')}>
              <Switch checked={lowIncome} onChange={setLowIncome} data-testid="preview-low-income" />
            </Form.Item>
          </Col>
          {lowIncome && (
            <Col span={12}>
              <Form.Item
                label={t('tariffs.preview.reduction')}
                validateStatus={fieldError('lowIncome.reductionM3PerMonth') ? 'error' : undefined}
                help={fieldError('lowIncome.reductionM3PerMonth')}
              >
                <Input
                  value={reductionM3}
                  onChange={(e) => setReduction(e.target.value)}
                  suffix={t('tariffs.preview.m3PerMonth')}
                />
              </Form.Item>
            </Col>
          )}
        </Row>
      </Form>
      <Spin spinning={busy} delay={200}>
        {error && (
          <Alert
            type={tariffProblems.length > 0 ? 'warning' : 'error'}
            showIcon
            data-testid="preview-error"
            message={tariffProblems.length > 0 ? t('tariffs.preview.fixTariff') : error.message}
            description={
              tariffProblems.length > 0 ? (
                <ul style={{ margin: 0, paddingLeft: 18 }}>
                  {tariffProblems.slice(0, 5).map((f) => (
                    <li key={f.path}>{f.message}</li>
                  ))}
                </ul>
              ) : undefined
            }
          />
        )}
        {bill && (
          <>
            <Statistic
              title={t('tariffs.preview.total')}
              value={formatFenAsYuan(bill.totalFen)}
              suffix={t('tariffs.yuan')}
              valueStyle={{ fontSize: 28 }}
              data-testid="preview-total"
            />
            <Typography.Text type="secondary">
              {t('tariffs.preview.payable', { volume: bill.payableM3 })}
            </Typography.Text>
            <Table<BillLine>
              size="small"
              style={{ marginTop: 8 }}
              rowKey={(l) => `${l.tariffVersion}-${l.from}-${l.kind}-${l.code}-${l.blockNo ?? ''}`}
              dataSource={bill.lines}
              pagination={false}
              data-testid="preview-lines"
              columns={[
                {
                  title: t('tariffs.preview.item'),
                  key: 'd',
                  render: (_: unknown, l) => l.description[lang],
                },
                { title: 'm³', dataIndex: 'volumeM3', align: 'right', width: 80 },
                {
                  title: t('tariffs.yuanPerM3'),
                  key: 'p',
                  align: 'right',
                  width: 90,
                  render: (_: unknown, l) => (l.unitPriceFen === null ? '' : fenToYuan(l.unitPriceFen)),
                },
                {
                  title: t('tariffs.preview.amount'),
                  key: 'a',
                  align: 'right',
                  width: 90,
                  render: (_: unknown, l) => formatFenAsYuan(l.amountFen),
                },
              ]}
            />
            <ol className="tariff-explanation" style={{ paddingLeft: 18, marginTop: 8 }}>
              {bill.explanation.map((e) => (
                <li key={`${e['zh-CN']}|${e.en}`}>
                  <Typography.Text type="secondary">{e[lang]}</Typography.Text>
                </li>
              ))}
            </ol>
          </>
        )}
      </Spin>
    </Card>
  );
}
