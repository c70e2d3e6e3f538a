import { ArrowLeftOutlined, EditOutlined, EyeOutlined } from '@ant-design/icons';
import { fenToYuan, type TariffVersion } from '@meterline/domain';
import { Alert, Button, Card, Descriptions, Space, Spin, Table, Tag, Typography } from 'antd';
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { currentLang } from '../i18n';
import { TariffEditor } from './TariffEditor';
import type { TariffDetail, TariffSummary } from './tariffForm';

/** '年阶梯 2.45 / 3.68 / 7.35 元/m³' or '4.25 元/m³'. */
export function PriceSummary({ version }: { version: TariffVersion | null }) {
  const { t } = useTranslation();
  if (!version) return <Typography.Text type="secondary">—</Typography.Text>;
  const yuan = (fen: string) => fenToYuan(fen) ?? fen;
  if (version.charge.kind === 'flat')
    return (
      <span>
        {yuan(version.charge.priceFenPerM3)} {t('tariffs.yuanPerM3')}
      </span>
    );
  return (
    <span>
      <Tag>{t(`tariffs.charge.${version.charge.basis}Short`)}</Tag>
      {version.charge.blocks.map((b) => yuan(b.priceFenPerM3)).join(' / ')} {t('tariffs.yuanPerM3')}
    </span>
  );
}

function SurchargeSummary({ version }: { version: TariffVersion | null }) {
  const lang = currentLang();
  if (!version || version.surcharges.length === 0)
    return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <span>
      {version.surcharges
        .map((s) => `${s.name[lang]} ${fenToYuan(s.priceFenPerM3) ?? s.priceFenPerM3}`)
        .join('，')}
    </span>
  );
}

function TariffList({ onOpen }: { onOpen: (usageType: string) => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const lang = currentLang();
  const list = useApi<{ today: string; items: TariffSummary[] }>('/api/tariffs');
  const admin = can('tariff.admin');
  return (
    <Card size="small">
      {list.error && (
        <Alert type="error" showIcon message={list.error.message} style={{ marginBottom: 12 }} />
      )}
      <Typography.Paragraph type="secondary">
        {t('tariffs.listHint', { today: list.data?.today ?? '' })}
      </Typography.Paragraph>
      <Table<TariffSummary>
        rowKey="usageType"
        size="small"
        loading={list.loading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        onRow={(row) => ({
          'data-testid': 'tariff-row',
          'data-usage-type': row.usageType,
          onDoubleClick: () => onOpen(row.usageType),
        })}
        columns={[
          {
            title: t('tariffs.usageType'),
            key: 'u',
            render: (_: unknown, r) => (
              <Space direction="vertical" size={0}>
                <span>
                  {r.name[lang]} {!r.active && <Tag>{t('tariffs.inactive')}</Tag>}
                </span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {r.usageType}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('tariffs.chargeName'),
            key: 'c',
            render: (_: unknown, r) => r.chargeName?.[lang] ?? '',
          },
          {
            title: t('tariffs.currentVersion'),
            key: 'v',
            render: (_: unknown, r) =>
              !r.configured ? (
                <Tag color="orange">{t('tariffs.notConfigured')}</Tag>
              ) : r.current ? (
                <Space direction="vertical" size={0}>
                  <span>{r.current.version}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t('tariffs.since', { date: r.current.effectiveFrom })}
                  </Typography.Text>
                </Space>
              ) : (
                <Tag color="red">{t('tariffs.noneToday')}</Tag>
              ),
          },
          {
            title: t('tariffs.currentPrice'),
            key: 'p',
            render: (_: unknown, r) => <PriceSummary version={r.current} />,
          },
          {
            title: t('tariffs.surcharges'),
            key: 's',
            render: (_: unknown, r) => <SurchargeSummary version={r.current} />,
          },
          {
            title: t('tariffs.nextChange'),
            key: 'n',
            render: (_: unknown, r) =>
              r.next ? (
                <Tag color="blue">
                  {r.next.version} · {r.next.effectiveFrom}
                </Tag>
              ) : (
                ''
              ),
          },
          {
            title: t('common.actions'),
            key: 'a',
            width: 110,
            render: (_: unknown, r) => (
              <Button
                size="small"
                icon={admin ? <EditOutlined /> : <EyeOutlined />}
                onClick={() => onOpen(r.usageType)}
                data-testid={`tariff-open-${r.usageType}`}
              >
                {admin ? (r.configured ? t('common.edit') : t('tariffs.create')) : t('tariffs.view')}
              </Button>
            ),
          },
        ]}
      />
    </Card>
  );
}

function TariffDetailView({ usageType, onBack }: { usageType: string; onBack: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const lang = currentLang();
  const detail = useApi<TariffDetail>(`/api/tariffs/${encodeURIComponent(usageType)}`);
  const d = detail.data;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Button icon={<ArrowLeftOutlined />} onClick={onBack} data-testid="tariff-back">
          {t('tariffs.backToList')}
        </Button>
        {d && (
          <Typography.Title level={5} style={{ margin: 0 }} data-testid="tariff-title">
            {d.name[lang]}（{d.usageType}）
          </Typography.Title>
        )}
      </Space>
      {detail.error && <Alert type="error" showIcon message={detail.error.message} />}
      {d && (
        <Descriptions size="small" column={{ xs: 1, md: 3 }}>
          <Descriptions.Item label={t('tariffs.revision')}>
            <span data-testid="tariff-revision">{d.revision}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('tariffs.updatedAt')}>
            {d.updatedAt ? formatDateTime(d.updatedAt) : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('tariffs.updatedBy')}>{d.updatedBy?.fullName ?? '—'}</Descriptions.Item>
        </Descriptions>
      )}
      <Spin spinning={detail.loading && !d}>
        {d && (
          <TariffEditor
            key={d.usageType}
            detail={d}
            canEdit={can('tariff.admin')}
            onSaved={() => detail.reload()}
          />
        )}
      </Spin>
    </Space>
  );
}

/**
 * Tariffs (水价管理, DOMAIN.md §4): every usage type with its current prices; one tariff's versions
 * to edit (tariff.admin) or read, with a preview of what a volume costs and the block staircase.
 */
export default function TariffsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const usageType = params.get('usageType');
  const open = useCallback(
    (code: string | null) =>
      setParams((p) => {
        const next = new URLSearchParams(p);
        if (code) next.set('usageType', code);
        else next.delete('usageType');
        return next;
      }),
    [setParams],
  );
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title" style={{ marginBottom: 0 }}>
        {t('menu.tariffs')}
      </Typography.Title>
      {usageType ? (
        <TariffDetailView usageType={usageType} onBack={() => open(null)} />
      ) : (
        <TariffList onOpen={open} />
      )}
    </Space>
  );
}
