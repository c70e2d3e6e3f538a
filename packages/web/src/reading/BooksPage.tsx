import { EditOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { todayInChina } from '@meterline/domain';
import {
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { OfficeSelect, RotationTag, useOfficeParam } from './common';
import { AREA_TYPES, type AreaType, type BookRow, ZONES, type Zone } from './types';
import { useReaders } from './useReaders';

interface BookValues {
  code: string;
  name: string;
  zone: Zone;
  areaType: AreaType;
  readerId?: number | null;
  active: boolean;
}

/** The office's books (册本): meters, zone, area type, reader and where they stand on rotation. */
export default function BooksPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [form] = Form.useForm<BookValues>();
  const [editing, setEditing] = useState<BookRow | 'new' | null>(null);
  const [busy, setBusy] = useState(false);
  const [filter, setFilter] = useState('');
  const books = useApi<BookRow[]>(officeId ? '/api/books' : null, { officeId });
  const planner = can('reading.plan');
  const { readers } = useReaders(officeId, planner && editing === 'new');

  const open = (row: BookRow | 'new') => {
    form.resetFields();
    form.setFieldsValue(
      row === 'new'
        ? { code: '', name: '', zone: 'C', areaType: 'concentrated', readerId: null, active: true }
        : { code: row.code, name: row.name, zone: row.zone, areaType: row.areaType, active: row.active },
    );
    setEditing(row);
  };

  const save = async () => {
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      if (editing === 'new') {
        await api('/api/books', {
          method: 'POST',
          body: {
            officeId,
            code: values.code,
            name: values.name,
            zone: values.zone,
            areaType: values.areaType,
            readerId: values.readerId ?? undefined,
          },
        });
      } else if (editing) {
        await api(`/api/books/${editing.bookId}`, {
          method: 'PUT',
          body: {
            name: values.name,
            zone: values.zone,
            areaType: values.areaType,
            active: values.active,
            version: editing.version,
          },
        });
      }
      void message.success(t('common.saved'));
      setEditing(null);
      books.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const q = filter.trim().toLowerCase();
  const rows = (books.data ?? []).filter(
    (b) =>
      !q ||
      b.code.toLowerCase().includes(q) ||
      b.name.toLowerCase().includes(q) ||
      (b.readerName ?? '').toLowerCase().includes(q),
  );
  const warned = (books.data ?? []).filter((b) => b.rotation && b.rotation.status !== 'ok').length;

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.books')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} />
          <Input.Search
            allowClear
            placeholder={t('reading.books.filter')}
            onChange={(e) => setFilter(e.target.value)}
            style={{ width: 220 }}
          />
          <Tooltip title={t('common.reload')}>
            <Button icon={<ReloadOutlined />} onClick={books.reload} aria-label={t('common.reload')} />
          </Tooltip>
          {planner && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')} data-testid="book-add">
              {t('reading.books.add')}
            </Button>
          )}
        </Space>
      </Space>
      {warned > 0 && (
        <Typography.Text type="warning">
          {t('reading.books.rotationWarned', { count: warned })}
        </Typography.Text>
      )}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<BookRow>
          rowKey="bookId"
          size="middle"
          loading={books.loading}
          dataSource={rows}
          pagination={{ pageSize: 50, hideOnSinglePage: true, showSizeChanger: false }}
          data-testid="books-table"
          scroll={{ x: 1000 }}
          columns={[
            {
              title: t('reading.books.code'),
              dataIndex: 'code',
              width: 120,
              sorter: (a, b) => a.code.localeCompare(b.code),
              render: (code: string, b) => <Link to={`/reading/books/${b.bookId}`}>{code}</Link>,
            },
            { title: t('reading.books.name'), dataIndex: 'name' },
            {
              title: t('reading.zone'),
              dataIndex: 'zone',
              width: 90,
              filters: ZONES.map((z) => ({ text: t(`reading.zoneName.${z}`), value: z })),
              onFilter: (v, b) => b.zone === v,
              render: (z: Zone) => <Tag color="blue">{t(`reading.zoneName.${z}`)}</Tag>,
            },
            {
              title: t('reading.areaType'),
              dataIndex: 'areaType',
              width: 100,
              render: (a: AreaType) => t(`reading.areaTypeName.${a}`),
            },
            {
              title: t('reading.books.meterCount'),
              dataIndex: 'meterCount',
              width: 100,
              align: 'right',
              sorter: (a, b) => a.meterCount - b.meterCount,
            },
            {
              title: t('reading.reader'),
              key: 'reader',
              render: (_, b) =>
                b.readerName ? (
                  <Space direction="vertical" size={0}>
                    <span>{b.readerName}</span>
                    {b.readerSince &&
                      (b.readerSince > todayInChina() ? (
                        // A handover dated later: the book stays with its reader until then.
                        <Typography.Text type="warning" style={{ fontSize: 12 }}>
                          {t('reading.books.takesOver', { date: b.readerSince })}
                        </Typography.Text>
                      ) : (
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t('reading.books.since', { date: b.readerSince })}
                        </Typography.Text>
                      ))}
                  </Space>
                ) : (
                  <Typography.Text type="secondary">{t('reading.books.noReader')}</Typography.Text>
                ),
            },
            {
              title: t('reading.rotation.title'),
              key: 'rotation',
              width: 170,
              sorter: (a, b) => (a.rotation?.dueOn ?? '9999').localeCompare(b.rotation?.dueOn ?? '9999'),
              render: (_, b) => <RotationTag rotation={b.rotation} />,
            },
            {
              title: t('reading.books.active'),
              dataIndex: 'active',
              width: 80,
              render: (a: boolean) =>
                a ? <Tag color="green">{t('common.yes')}</Tag> : <Tag>{t('reading.books.inactive')}</Tag>,
            },
            {
              title: t('common.actions'),
              key: 'actions',
              width: 160,
              render: (_, b) => (
                <Space>
                  <Link to={`/reading/books/${b.bookId}`}>{t('reading.books.open')}</Link>
                  {planner && (
                    <Button size="small" icon={<EditOutlined />} onClick={() => open(b)}>
                      {t('common.edit')}
                    </Button>
                  )}
                </Space>
              ),
            },
          ]}
        />
      </Card>
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('reading.books.add') : t('reading.books.edit')}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="book" layout="vertical">
          <Form.Item
            name="code"
            label={t('reading.books.code')}
            rules={[
              { required: true },
              { max: 30 },
              { pattern: /^[0-9A-Za-z_-]+$/, message: t('reading.books.codeChars') },
            ]}
            extra={editing === 'new' ? undefined : t('reading.books.codeFixed')}
          >
            <Input disabled={editing !== 'new'} />
          </Form.Item>
          <Form.Item name="name" label={t('reading.books.name')} rules={[{ required: true }, { max: 60 }]}>
            <Input />
          </Form.Item>
          <Space size="large" wrap>
            <Form.Item name="zone" label={t('reading.zone')} rules={[{ required: true }]}>
              <Select
                style={{ width: 200 }}
                options={ZONES.map((z) => ({ value: z, label: t(`reading.zoneName.${z}`) }))}
              />
            </Form.Item>
            <Form.Item name="areaType" label={t('reading.areaType')} rules={[{ required: true }]}>
              <Select
                style={{ width: 200 }}
                options={AREA_TYPES.map((a) => ({ value: a, label: t(`reading.areaTypeName.${a}`) }))}
              />
            </Form.Item>
          </Space>
          {editing === 'new' ? (
            <Form.Item name="readerId" label={t('reading.reader')} extra={t('reading.books.readerHint')}>
              <Select
                allowClear
                options={readers.map((r) => ({
                  value: r.staff_id,
                  label: `${r.full_name}（${r.username}）`,
                }))}
              />
            </Form.Item>
          ) : (
            <Form.Item name="active" label={t('reading.books.active')} valuePropName="checked">
              <Switch />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Space>
  );
}
