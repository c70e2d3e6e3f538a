import { CheckOutlined, EditOutlined, RollbackOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  Col,
  Descriptions,
  type DescriptionsProps,
  Empty,
  Form,
  Image,
  Input,
  Modal,
  Row,
  Space,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { AnomalyTags, FlagTags, OfficeSelect, useOfficeParam, useParam, volume } from './common';
import { ReadingHistoryChart } from './ReadingHistoryChart';
import { itemsOf, type Paged, type ReadingRow, type ReviewItem } from './types';

/** Readings in one page of the queue. */
const QUEUE_PAGE_SIZE = 50;

type Action = 'accept' | 'reject' | 'estimate';

/** Where a reading's photo is served, when it has one. */
export function photoUrl(r: ReadingRow): string | null {
  if (r.photoUrl) return r.photoUrl;
  if (r.hasPhoto) return `/api/customers/${r.accountId}/readings/${r.readingId}/photo`;
  return null;
}

const itemKey = (r: { accountId: number; readingId: number }) => `${r.accountId}:${r.readingId}`;

/** The review queue (复核): flagged readings and conflicting ones, decided one by one. */
export default function ReviewPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [status, setStatus] = useParam('status', 'review');
  const [page, setPage] = useState(1);
  const pageOf = (s: string) => (s === status ? page : 1);
  const counts = {
    review: useApi<Paged<ReviewItem> | ReviewItem[]>(officeId ? '/api/readings/review' : null, {
      officeId,
      status: 'review',
      page: pageOf('review'),
      pageSize: QUEUE_PAGE_SIZE,
    }),
    conflict: useApi<Paged<ReviewItem> | ReviewItem[]>(officeId ? '/api/readings/review' : null, {
      officeId,
      status: 'conflict',
      page: pageOf('conflict'),
      pageSize: QUEUE_PAGE_SIZE,
    }),
  };
  const totalOf = (d: Paged<ReviewItem> | ReviewItem[] | undefined) =>
    d === undefined ? 0 : Array.isArray(d) ? d.length : d.total;
  const queue = status === 'conflict' ? counts.conflict : counts.review;
  const [current, setCurrent] = useState<string | null>(null);
  const [acting, setActing] = useState<{ reading: ReadingRow; action: Action } | null>(null);
  const [form] = Form.useForm<{ note: string }>();
  const [busy, setBusy] = useState(false);
  const items = itemsOf(queue.data);
  const selected = items.find((i) => itemKey(i) === current) ?? items[0];

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new list starts at its first item.
  useEffect(() => {
    setCurrent(null);
  }, [queue.data]);

  const open = (reading: ReadingRow, action: Action) => {
    form.resetFields();
    setActing({ reading, action });
  };
  const act = async () => {
    if (!acting) return;
    const values = await validated(form);
    if (!values) return;
    const { note } = values;
    setBusy(true);
    try {
      await api(`/api/customers/${acting.reading.accountId}/readings/${acting.reading.readingId}/review`, {
        method: 'POST',
        body: { action: acting.action, note: note ?? '' },
      });
      void message.success(t(`reading.review.done.${acting.action}`));
      setActing(null);
      counts.review.reload();
      counts.conflict.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const actions = (r: ReadingRow) => (
    <Space wrap>
      <Button
        type="primary"
        icon={<CheckOutlined />}
        onClick={() => open(r, 'accept')}
        data-testid="review-accept"
      >
        {t('reading.review.accept')}
      </Button>
      <Button
        danger
        icon={<RollbackOutlined />}
        onClick={() => open(r, 'reject')}
        data-testid="review-reject"
      >
        {t('reading.review.reject')}
      </Button>
      <Button icon={<EditOutlined />} onClick={() => open(r, 'estimate')} data-testid="review-estimate">
        {t('reading.review.estimate')}
      </Button>
    </Space>
  );

  const readingFacts = (r: ReadingRow, expected?: { m3: string | null; basis?: string }) => {
    const items: DescriptionsProps['items'] = [
      { key: 'at', label: t('reading.readAt'), children: formatDateTime(r.readAt) },
      { key: 'reader', label: t('reading.reader'), children: r.readerName ?? '—' },
      {
        key: 'index',
        label: t('reading.indexes'),
        children: (
          <>
            {volume(r.previousIndex)} → <Typography.Text strong>{volume(r.index)}</Typography.Text>
          </>
        ),
      },
      {
        key: 'volume',
        label: t('reading.consumption'),
        children: (
          <Space size={8} wrap>
            <Typography.Text strong>{volume(r.consumptionM3)} m³</Typography.Text>
            {expected && (
              <Typography.Text type="secondary">
                {t('reading.expectedIs', { value: volume(expected.m3) })}
                {expected.basis
                  ? `（${t(`reading.basis.${expected.basis}`, { defaultValue: expected.basis })}）`
                  : ''}
              </Typography.Text>
            )}
          </Space>
        ),
      },
      {
        key: 'flags',
        label: t('reading.flags'),
        children:
          r.flags.length === 0 && r.anomalyCodes.length === 0 ? (
            '—'
          ) : (
            <>
              <FlagTags flags={r.flags} />
              <AnomalyTags codes={r.anomalyCodes} />
            </>
          ),
      },
      { key: 'note', label: t('reading.note'), children: r.note || '—' },
      {
        key: 'photo',
        label: t('reading.photo'),
        children: photoUrl(r) ? (
          <Image
            src={photoUrl(r)!}
            width={160}
            alt={t('reading.photoOf', { meterNo: r.meterNo ?? '' })}
            data-testid="reading-photo"
          />
        ) : (
          <Typography.Text type="secondary">{t('reading.noPhoto')}</Typography.Text>
        ),
      },
    ];
    if (r.signatureUrl || r.signerName)
      items.push({
        key: 'signature',
        label: t('reading.signature'),
        children: (
          <Space>
            {r.signatureUrl && <Image src={r.signatureUrl} height={48} alt={t('reading.signature')} />}
            {r.signerName}
          </Space>
        ),
      });
    if (r.latitude && r.longitude)
      items.push({
        key: 'location',
        label: t('reading.location'),
        children: `${r.latitude}, ${r.longitude}${r.accuracyM ? ` ±${r.accuracyM} m` : ''}`,
      });
    return <Descriptions size="small" column={1} bordered items={items} />;
  };

  const detail = (item: ReviewItem) => {
    const readings = [
      ...item.recent.map((p, i) => ({
        key: `p${i}`,
        readAt: p.readAt,
        period: p.period,
        consumptionM3: p.consumptionM3,
        kind: p.kind,
      })),
      {
        key: 'current',
        readAt: item.readAt,
        period: item.period,
        consumptionM3: item.consumptionM3,
        kind: item.kind,
        current: true,
      },
    ];
    const conflicting = item.status === 'conflict' ? [item, ...(item.others ?? [])] : null;
    return (
      <Card
        size="small"
        data-testid="review-detail"
        title={
          <Space wrap>
            <Link to={`/customers/${item.accountId}?tab=readings`}>{item.customerName}</Link>
            <Typography.Text type="secondary">{item.customerCode}</Typography.Text>
            <Typography.Text>
              {t('meter.meterNo')} {item.meterNo}
            </Typography.Text>
            <Typography.Text type="secondary">
              {t('reading.period')} {item.period}
            </Typography.Text>
          </Space>
        }
      >
        <Space direction="vertical" style={{ width: '100%' }} size="middle">
          {item.address && <Typography.Text type="secondary">{item.address}</Typography.Text>}
          <div>
            <Typography.Text strong>{t('reading.review.recent')}</Typography.Text>
            <ReadingHistoryChart
              readings={readings}
              expectedM3={item.expectedM3}
              height={200}
              testId="review-chart"
            />
          </div>
          {conflicting ? (
            <>
              <Alert type="warning" showIcon message={t('reading.review.conflictHint')} />
              <Row gutter={[12, 12]} data-testid="conflict-compare">
                {conflicting.map((r, i) => (
                  <Col key={itemKey(r)} xs={24} lg={12}>
                    <Card
                      size="small"
                      type="inner"
                      title={t('reading.review.readingN', { n: i + 1 })}
                      extra={
                        <Space size={4}>
                          <Tag
                            color={
                              r.status === 'accepted' ? 'green' : r.status === 'conflict' ? 'red' : 'orange'
                            }
                          >
                            {t(`reading.statusName.${r.status}`, { defaultValue: r.status })}
                          </Tag>
                          <Typography.Text type="secondary">#{r.readingId}</Typography.Text>
                        </Space>
                      }
                    >
                      <Space direction="vertical" style={{ width: '100%' }}>
                        {readingFacts(r, { m3: item.expectedM3, basis: item.expectedBasis })}
                        {r.status === 'conflict' || r.status === 'review' ? actions(r) : null}
                      </Space>
                    </Card>
                  </Col>
                ))}
              </Row>
            </>
          ) : (
            <>
              {readingFacts(item, { m3: item.expectedM3, basis: item.expectedBasis })}
              {actions(item)}
            </>
          )}
        </Space>
      </Card>
    );
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.review')}
        </Typography.Title>
        <OfficeSelect value={officeId} onChange={setOfficeId} />
      </Space>
      <Tabs
        activeKey={status}
        onChange={(s) => {
          setStatus(s);
          setPage(1);
        }}
        items={(['review', 'conflict'] as const).map((s) => ({
          key: s,
          label: (
            <Space size={4}>
              {t(`reading.review.tab.${s}`)}
              <Badge
                count={totalOf(counts[s].data)}
                showZero={false}
                overflowCount={9999}
                color={s === 'conflict' ? 'red' : 'orange'}
              />
            </Space>
          ),
        }))}
      />
      {queue.error && <Alert type="error" showIcon message={queue.error.message} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={10}>
          <Card size="small" styles={{ body: { padding: 0 } }}>
            <Table<ReviewItem>
              rowKey={itemKey}
              size="small"
              loading={queue.loading}
              dataSource={items}
              pagination={{
                current: page,
                pageSize: QUEUE_PAGE_SIZE,
                total: totalOf(queue.data),
                onChange: setPage,
                hideOnSinglePage: true,
                showSizeChanger: false,
              }}
              className="clickable-rows"
              rowClassName={(r) => (selected && itemKey(r) === itemKey(selected) ? 'row-active' : '')}
              onRow={(r) => ({ onClick: () => setCurrent(itemKey(r)) })}
              data-testid="review-queue"
              columns={[
                {
                  title: t('customer.name'),
                  key: 'c',
                  render: (_, r) => (
                    <Space direction="vertical" size={0}>
                      <span>{r.customerName}</span>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {r.meterNo} · {r.bookCode ?? ''}
                      </Typography.Text>
                    </Space>
                  ),
                },
                {
                  title: t('reading.consumption'),
                  key: 'v',
                  width: 110,
                  align: 'right',
                  render: (_, r) => (
                    <Space direction="vertical" size={0} style={{ alignItems: 'flex-end' }}>
                      <span>{volume(r.consumptionM3)}</span>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {t('reading.expectedShort', { value: volume(r.expectedM3) })}
                      </Typography.Text>
                    </Space>
                  ),
                },
                {
                  title: t('reading.flags'),
                  key: 'f',
                  render: (_, r) => (
                    <>
                      <FlagTags flags={r.flags} />
                      <AnomalyTags codes={r.anomalyCodes} />
                    </>
                  ),
                },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} xl={14}>
          {selected ? detail(selected) : <Empty description={t('reading.review.empty')} />}
        </Col>
      </Row>
      <Modal
        open={acting !== null}
        title={
          acting ? t(`reading.review.title.${acting.action}`, { meterNo: acting.reading.meterNo ?? '' }) : ''
        }
        onOk={act}
        onCancel={() => setActing(null)}
        confirmLoading={busy}
        okText={acting ? t(`reading.review.${acting.action}`) : ''}
        okButtonProps={{ danger: acting?.action === 'reject' }}
        cancelText={t('common.cancel')}
        forceRender
      >
        {acting && (
          <Typography.Paragraph>{t(`reading.review.explain.${acting.action}`)}</Typography.Paragraph>
        )}
        <Form form={form} name="review" layout="vertical">
          <Form.Item
            name="note"
            label={t('reading.note')}
            rules={[{ required: acting?.action !== 'accept', whitespace: true }, { max: 500 }]}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
