import {
  ArrowLeftOutlined,
  ReloadOutlined,
  SaveOutlined,
  SwapOutlined,
  UndoOutlined,
  UserSwitchOutlined,
} from '@ant-design/icons';
import { todayInChina } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  Modal,
  Result,
  Select,
  Space,
  Spin,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiError, api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { DateInput, today } from '../components/DateInput';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { RotationTag } from './common';
import { meterKey, RouteList } from './RouteList';
import type { AssignmentRow, BookRoute, BookRow, RouteMeter } from './types';
import { useReaders } from './useReaders';

interface AssignValues {
  readerId: number;
  fromDate: string;
  handoverNote: string;
  openItems: string;
}

/** One book: its route in reading order (drag to reorder), moving meters out, and its readers over time. */
export default function BookPage() {
  const { bookId } = useParams();
  return <BookView key={bookId} bookId={Number(bookId)} />;
}

function BookView({ bookId }: { bookId: number }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const planner = can('reading.plan');
  const route = useApi<BookRoute>(`/api/books/${bookId}/route`);
  const assignments = useApi<AssignmentRow[]>(`/api/books/${bookId}/assignments`);
  const book = route.data?.book;
  const officeBooks = useApi<BookRow[]>(book && planner ? '/api/books' : null, { officeId: book?.officeId });
  const { readers } = useReaders(book?.officeId, planner);

  const [order, setOrder] = useState<RouteMeter[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [target, setTarget] = useState<number | undefined>(undefined);
  const [moving, setMoving] = useState(false);
  const [assignOpen, setAssignOpen] = useState(false);
  const [assignForm] = Form.useForm<AssignValues>();

  const saved = route.data?.meters;
  useEffect(() => {
    if (saved) {
      setOrder(saved);
      setSelected(new Set());
    }
  }, [saved]);
  const savedOrder = useMemo(() => (saved ?? []).map(meterKey), [saved]);
  const dirty = order.some((m, i) => savedOrder[i] !== meterKey(m));

  const onSelect = useCallback((key: string, on: boolean) => {
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });
  }, []);

  if (route.error && !route.data) {
    return (
      <Result
        status={route.error.status === 404 ? '404' : 'error'}
        title={route.error.message}
        extra={<Link to="/reading/books">{t('menu.books')}</Link>}
      />
    );
  }
  if (!book || !saved) return <Spin size="large" style={{ display: 'block', margin: '80px auto' }} />;

  const saveOrder = async () => {
    setSaving(true);
    setSaveError(null);
    try {
      await api(`/api/books/${bookId}/route`, {
        method: 'PUT',
        body: {
          order: order.map((m) => ({ accountId: m.accountId, meterId: m.meterId })),
          version: book.version,
        },
      });
      void message.success(t('reading.route.saved'));
      route.reload();
    } catch (e) {
      if (e instanceof ApiError) setSaveError(e);
      else handle(e);
    } finally {
      setSaving(false);
    }
  };

  const moveSelected = async () => {
    if (!target) return;
    const meters = order.filter((m) => selected.has(meterKey(m)));
    setMoving(true);
    try {
      await api(`/api/books/${target}/meters`, {
        method: 'POST',
        body: { meters: meters.map((m) => ({ accountId: m.accountId, meterId: m.meterId })) },
      });
      const to = officeBooks.data?.find((b) => b.bookId === target);
      void message.success(t('reading.route.moved', { count: meters.length, book: to?.code ?? target }));
      setTarget(undefined);
      route.reload();
    } catch (e) {
      handle(e);
    } finally {
      setMoving(false);
    }
  };

  const openAssign = () => {
    assignForm.resetFields();
    assignForm.setFieldsValue({ fromDate: today(), handoverNote: '', openItems: '' });
    setAssignOpen(true);
  };
  const assign = async () => {
    const values = await validated(assignForm);
    if (!values) return;
    setSaving(true);
    try {
      await api(`/api/books/${bookId}/assign`, { method: 'POST', body: values });
      void message.success(t('reading.assign.done'));
      setAssignOpen(false);
      route.reload();
      assignments.reload();
    } catch (e) {
      handle(e, assignForm);
    } finally {
      setSaving(false);
    }
  };

  const otherBooks = (officeBooks.data ?? []).filter((b) => b.bookId !== bookId && b.active);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Card
        title={
          <Space wrap>
            <Button
              type="text"
              icon={<ArrowLeftOutlined />}
              onClick={() => navigate(-1)}
              aria-label={t('common.back')}
            />
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="book-title">
              {book.code} {book.name}
            </Typography.Title>
            <Tag color="blue">{t(`reading.zoneName.${book.zone}`)}</Tag>
            <Tag>{t(`reading.areaTypeName.${book.areaType}`)}</Tag>
            {!book.active && <Tag>{t('reading.books.inactive')}</Tag>}
            <RotationTag rotation={book.rotation} />
          </Space>
        }
        extra={
          <Space>
            {planner && (
              <Button icon={<UserSwitchOutlined />} onClick={openAssign} data-testid="assign-reader">
                {t('reading.assign.title')}
              </Button>
            )}
            <Button icon={<ReloadOutlined />} onClick={route.reload} aria-label={t('common.reload')} />
          </Space>
        }
      >
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }}>
          <Descriptions.Item label={t('reading.reader')}>
            {book.readerName ?? t('reading.books.noReader')}
          </Descriptions.Item>
          <Descriptions.Item label={t('reading.books.readerSince')}>
            {book.readerSince && book.readerSince > todayInChina() ? (
              <Typography.Text type="warning">
                {t('reading.books.takesOver', { date: book.readerSince })}
              </Typography.Text>
            ) : (
              (book.readerSince ?? '—')
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('reading.rotation.title')}>
            {book.rotation ? t('reading.rotation.dueOn', { date: book.rotation.dueOn }) : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('reading.books.meterCount')}>{saved.length}</Descriptions.Item>
        </Descriptions>
      </Card>

      <Card
        title={t('reading.route.title')}
        extra={
          planner && (
            <Space wrap>
              {dirty && <Tag color="orange">{t('reading.route.unsaved')}</Tag>}
              <Button
                icon={<UndoOutlined />}
                disabled={!dirty}
                onClick={() => {
                  setOrder(saved);
                  setSaveError(null);
                }}
              >
                {t('reading.route.reset')}
              </Button>
              <Button
                type="primary"
                icon={<SaveOutlined />}
                disabled={!dirty}
                loading={saving}
                onClick={saveOrder}
                data-testid="route-save"
              >
                {t('reading.route.save')}
              </Button>
            </Space>
          )
        }
      >
        <Space direction="vertical" style={{ width: '100%' }}>
          {planner && <Typography.Text type="secondary">{t('reading.route.hint')}</Typography.Text>}
          {saveError && (
            <Alert
              type="error"
              showIcon
              closable
              onClose={() => setSaveError(null)}
              message={saveError.message}
              data-testid="route-error"
              description={
                saveError.fields.length > 0 ? (
                  <ul style={{ margin: 0, paddingLeft: 18 }}>
                    {saveError.fields.map((f) => (
                      <li key={`${f.path}:${f.code}`}>{f.message}</li>
                    ))}
                  </ul>
                ) : saveError.code === 'VERSION_CONFLICT' || saveError.status === 409 ? (
                  <Space>
                    {t('reading.route.conflict')}
                    <Button size="small" onClick={route.reload}>
                      {t('common.reload')}
                    </Button>
                  </Space>
                ) : undefined
              }
            />
          )}
          {planner && selected.size > 0 && (
            <Space wrap className="route-move" data-testid="route-move">
              <Typography.Text strong>
                {t('reading.route.selected', { count: selected.size })}
              </Typography.Text>
              <Select
                style={{ minWidth: 240 }}
                placeholder={t('reading.route.targetBook')}
                value={target}
                onChange={setTarget}
                showSearch
                optionFilterProp="label"
                options={otherBooks.map((b) => ({
                  value: b.bookId,
                  label: `${b.code} ${b.name}（${t(`reading.zoneName.${b.zone}`)}）`,
                }))}
                data-testid="route-target"
              />
              <Button
                icon={<SwapOutlined />}
                disabled={!target || dirty}
                loading={moving}
                onClick={moveSelected}
                title={dirty ? t('reading.route.saveFirst') : undefined}
              >
                {t('reading.route.move')}
              </Button>
              <Button type="link" onClick={() => setSelected(new Set())}>
                {t('reading.route.clearSelection')}
              </Button>
              {dirty && <Typography.Text type="warning">{t('reading.route.saveFirst')}</Typography.Text>}
            </Space>
          )}
          <RouteList
            meters={order}
            onChange={setOrder}
            editable={planner}
            selected={selected}
            onSelect={onSelect}
            onSelectAll={(on) => setSelected(on ? new Set(order.map(meterKey)) : new Set())}
            savedOrder={savedOrder}
          />
        </Space>
      </Card>

      <Card title={t('reading.assign.history')}>
        <Table<AssignmentRow>
          rowKey="assignmentId"
          size="small"
          loading={assignments.loading}
          dataSource={assignments.data ?? []}
          pagination={false}
          data-testid="assignments-table"
          columns={[
            { title: t('reading.reader'), dataIndex: 'readerName' },
            { title: t('reading.assign.fromDate'), dataIndex: 'fromDate', width: 120 },
            {
              title: t('reading.assign.toDate'),
              dataIndex: 'toDate',
              width: 160,
              // A handover dated later: the reader handing over is still on duty until then.
              render: (d: string | null, a) => {
                const today = todayInChina();
                if (a.fromDate > today) return <Tag color="orange">{t('reading.assign.upcoming')}</Tag>;
                if (d === null || d > today)
                  return (
                    <Space size={4}>
                      {d}
                      <Tag color="green">{t('reading.assign.current')}</Tag>
                    </Space>
                  );
                return d;
              },
            },
            {
              title: t('reading.assign.handoverNote'),
              dataIndex: 'handoverNote',
              render: (v: string) => v || '—',
            },
            {
              title: t('reading.assign.openItems'),
              dataIndex: 'openItems',
              render: (v: string) => (v ? <Typography.Text type="warning">{v}</Typography.Text> : '—'),
            },
            {
              title: t('reading.assign.recordedBy'),
              key: 'by',
              width: 200,
              render: (_, a) => (
                <Space direction="vertical" size={0}>
                  <span>{a.recordedByName ?? '—'}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {formatDateTime(a.recordedAt)}
                  </Typography.Text>
                </Space>
              ),
            },
          ]}
        />
      </Card>

      <Modal
        open={assignOpen}
        title={t('reading.assign.titleFor', { book: `${book.code} ${book.name}` })}
        onOk={assign}
        onCancel={() => setAssignOpen(false)}
        confirmLoading={saving}
        okText={t('reading.assign.submit')}
        cancelText={t('common.cancel')}
        width={640}
        forceRender
      >
        <Form form={assignForm} name="assign" layout="vertical">
          {book.readerName && (
            <Alert
              type="info"
              showIcon
              style={{ marginBottom: 16 }}
              message={t('reading.assign.previous', {
                reader: book.readerName,
                since: book.readerSince ?? '—',
              })}
            />
          )}
          <Form.Item name="readerId" label={t('reading.assign.newReader')} rules={[{ required: true }]}>
            <Select
              data-testid="assign-reader-select"
              showSearch
              optionFilterProp="label"
              options={readers
                .filter((r) => r.staff_id !== book.readerId)
                .map((r) => ({ value: r.staff_id, label: `${r.full_name}（${r.username}）` }))}
            />
          </Form.Item>
          <Form.Item name="fromDate" label={t('reading.assign.fromDate')} rules={[{ required: true }]}>
            <DateInput allowClear={false} />
          </Form.Item>
          <Form.Item
            name="handoverNote"
            label={t('reading.assign.handoverNote')}
            rules={[{ required: book.readerId !== null, whitespace: true }, { max: 2000 }]}
            extra={t('reading.assign.handoverHint')}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
          <Form.Item
            name="openItems"
            label={t('reading.assign.openItems')}
            rules={[{ max: 2000 }]}
            extra={t('reading.assign.openItemsHint')}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
