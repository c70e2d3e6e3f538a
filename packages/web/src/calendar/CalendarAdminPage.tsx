import { CloudDownloadOutlined, LeftOutlined, RightOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  Input,
  Modal,
  Row,
  Select,
  Space,
  Spin,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { useParam } from '../reading/common';
import { type CalendarDay, DAY_KINDS, type DayKind } from '../reading/types';
import { KindLegend, kindOf, MonthGrid } from './MonthGrid';
import { useCalendar } from './useCalendar';

const MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as const;

/** Whether a year of calendar data looks like the official arrangement or only weekends. */
export function ProvisionalTag({ official }: { official: boolean | undefined }) {
  const { t } = useTranslation();
  if (official === undefined) return null;
  return official ? (
    <Tag color="green" data-testid="calendar-official">
      {t('calendar.official')}
    </Tag>
  ) : (
    <Tag color="orange" data-testid="calendar-provisional">
      {t('calendar.provisional')}
    </Tag>
  );
}

/** The working-day calendar (工作日历) of a year: holidays and 调休 days, editable by admins. */
export default function CalendarAdminPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [yearText, setYear] = useParam('year', String(dayjs().year()));
  const year = Number(yearText) || dayjs().year();
  const calendar = useCalendar(year);
  const [editing, setEditing] = useState<string | null>(null);
  const [form] = Form.useForm<{ kind: DayKind; name: string }>();
  const [busy, setBusy] = useState(false);
  const admin = can('calendar.admin');

  const counts = useMemo(() => {
    const c: Record<DayKind, number> = { workday: 0, weekend: 0, holiday: 0, adjusted_workday: 0 };
    const first = dayjs(`${year}-01-01`);
    const n = first.add(1, 'year').diff(first, 'day');
    for (let i = 0; i < n; i++) c[kindOf(first.add(i, 'day').format('YYYY-MM-DD'), calendar.days)]++;
    return c;
  }, [calendar.days, year]);
  const special = useMemo(
    () =>
      [...calendar.days.values()]
        .filter((d) => d.kind === 'holiday' || d.kind === 'adjusted_workday' || d.source === 'admin')
        .sort((a, b) => a.day.localeCompare(b.day)),
    [calendar.days],
  );

  const open = (date: string) => {
    if (!admin) return;
    const stored = calendar.days.get(date);
    form.resetFields();
    form.setFieldsValue({ kind: kindOf(date, calendar.days), name: stored?.name ?? '' });
    setEditing(date);
  };
  const save = async () => {
    if (!editing) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(`/api/calendar/days/${editing}`, { method: 'PUT', body: values });
      void message.success(t('common.saved'));
      setEditing(null);
      calendar.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };
  const reload = () =>
    modal.confirm({
      title: t('calendar.reloadTitle', { year }),
      content: t('calendar.reloadConfirm'),
      okText: t('calendar.reload'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api(`/api/calendar/years/${year}/reload`, { method: 'POST' });
          void message.success(t('calendar.reloaded', { year }));
          calendar.reload();
        } catch (e) {
          handle(e);
        }
      },
    });

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Space align="center">
          <Typography.Title level={4} className="page-title" style={{ marginBottom: 0 }}>
            {t('menu.calendar')}
          </Typography.Title>
          <ProvisionalTag official={calendar.official} />
        </Space>
        <Space wrap>
          <Button
            icon={<LeftOutlined />}
            onClick={() => setYear(String(year - 1))}
            aria-label={t('calendar.prevYear')}
          />
          <Select
            value={year}
            onChange={(y) => setYear(String(y))}
            style={{ width: 110 }}
            aria-label={t('calendar.year')}
            options={Array.from({ length: 7 }, (_, i) => dayjs().year() - 3 + i).map((y) => ({
              value: y,
              label: t('calendar.yearLabel', { year: y }),
            }))}
          />
          <Button
            icon={<RightOutlined />}
            onClick={() => setYear(String(year + 1))}
            aria-label={t('calendar.nextYear')}
          />
          {admin && (
            <Button icon={<CloudDownloadOutlined />} onClick={reload} data-testid="calendar-reload">
              {t('calendar.reload')}
            </Button>
          )}
        </Space>
      </Space>
      {calendar.official === false && (
        <Alert type="warning" showIcon message={t('calendar.provisionalHint', { year })} />
      )}
      {calendar.error && <Alert type="error" showIcon message={calendar.error.message} />}
      <Row gutter={[16, 16]}>
        {(['workday', 'adjusted_workday', 'holiday', 'weekend'] as const).map((k) => (
          <Col key={k} xs={12} md={6}>
            <Card size="small">
              <Statistic title={t(`calendar.count.${k}`)} value={counts[k]} />
            </Card>
          </Col>
        ))}
      </Row>
      <Card
        size="small"
        title={t('calendar.yearLabel', { year })}
        extra={<KindLegend />}
        data-testid="calendar-year"
      >
        <Spin spinning={calendar.loading}>
          <Typography.Paragraph type="secondary">
            {admin ? t('calendar.clickToEdit') : t('calendar.readOnly')}
          </Typography.Paragraph>
          <div className="year-grid">
            {MONTHS.map((m) => (
              <MonthGrid
                key={m}
                year={year}
                month={m}
                days={calendar.days}
                title={t(`calendar.monthName.${m}`)}
                onCellClick={admin ? open : undefined}
                selected={editing}
              />
            ))}
          </div>
        </Spin>
      </Card>
      <Card size="small" title={t('calendar.specialDays')}>
        <Table<CalendarDay>
          rowKey="day"
          size="small"
          dataSource={special}
          pagination={false}
          columns={[
            {
              title: t('calendar.day'),
              dataIndex: 'day',
              width: 160,
              render: (d: string) => `${d} ${dayjs(d).format('ddd')}`,
            },
            {
              title: t('calendar.kindLabel'),
              dataIndex: 'kind',
              width: 140,
              render: (k: DayKind) => (
                <Tag color={k === 'holiday' ? 'red' : k === 'adjusted_workday' ? 'orange' : undefined}>
                  {t(`calendar.kind.${k}`)}
                </Tag>
              ),
            },
            { title: t('calendar.name'), dataIndex: 'name' },
            {
              title: t('calendar.source'),
              dataIndex: 'source',
              width: 120,
              render: (s: string) => t(`calendar.sourceName.${s}`, { defaultValue: s }),
            },
            ...(admin
              ? [
                  {
                    title: t('common.actions'),
                    key: 'a',
                    width: 90,
                    render: (_: unknown, d: CalendarDay) => (
                      <Button size="small" onClick={() => open(d.day)}>
                        {t('common.edit')}
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Card>
      <Modal
        open={editing !== null}
        title={editing ? t('calendar.editDay', { day: `${editing} ${dayjs(editing).format('dddd')}` }) : ''}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="calendarDay" layout="vertical">
          <Form.Item name="kind" label={t('calendar.kindLabel')} rules={[{ required: true }]}>
            <Select options={DAY_KINDS.map((k) => ({ value: k, label: t(`calendar.kind.${k}`) }))} />
          </Form.Item>
          <Form.Item
            name="name"
            label={t('calendar.name')}
            rules={[{ max: 40 }]}
            extra={t('calendar.nameHint')}
          >
            <Input />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
