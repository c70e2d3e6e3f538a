import { PlusOutlined, SearchOutlined } from '@ant-design/icons';
import {
  Alert,
  Button,
  Card,
  Col,
  Input,
  type InputRef,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { useMeta } from '../components/meta';
import { StateTag } from '../components/StateTag';
import { useApi } from '../components/useApi';
import type { CustomerHit, SearchResult } from './types';

/** Typing pauses this long before a search is sent. */
const DEBOUNCE_MS = 300;
const PAGE_SIZE = 20;

const FILTER_KEYS = ['officeId', 'state', 'kind', 'blacklisted', 'lowIncome'] as const;

/**
 * The home page: one search box for name, phone, ID number, customer code, meter number or an
 * address fragment. The query lives in the URL, so Back from a customer returns to the same list.
 * ↑/↓ move through the results, Enter opens the highlighted customer.
 */
export default function CustomerSearchPage() {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const meta = useMeta();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const page = Number(params.get('page') ?? '1') || 1;
  const [text, setText] = useState(q);
  const [active, setActive] = useState(0);
  // Enter pressed before the results for the typed text arrived: open them if they are unambiguous.
  const [openWhenReady, setOpenWhenReady] = useState(false);
  const inputRef = useRef<InputRef>(null);

  const update = (changes: Record<string, string | undefined>) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === undefined || v === '') next.delete(k);
          else next.set(k, v);
        }
        if (!('page' in changes)) next.delete('page');
        return next;
      },
      { replace: true },
    );
  };

  // Debounced: the URL (and so the request) follows the box once typing pauses.
  // biome-ignore lint/correctness/useExhaustiveDependencies: update is stable enough; only text matters.
  useEffect(() => {
    if (text === q) return;
    const timer = setTimeout(() => update({ q: text.trim() === '' ? undefined : text }), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const query = useMemo(() => {
    const out: Record<string, string | number> = { q, page, pageSize: PAGE_SIZE };
    for (const key of FILTER_KEYS) {
      const v = params.get(key);
      if (v) out[key] = v;
    }
    return out;
  }, [q, page, params]);
  const result = useApi<SearchResult>('/api/customers', query);
  const items = result.data?.items ?? [];
  const settled = !result.loading && text.trim() === q.trim();

  const open = (hit: CustomerHit | undefined) => {
    if (hit) navigate(`/customers/${hit.accountId}`);
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when new results arrive.
  useEffect(() => {
    setActive(0);
    if (!openWhenReady || !settled) return;
    setOpenWhenReady(false);
    // One match, or one exact match of a code or number ahead of fragment matches: open it.
    if (items.length === 1 || (items[0]?.exact && !items[1]?.exact)) open(items[0]);
  }, [result.data, settled]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((i) => Math.min(i + 1, items.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (settled) open(items[active]);
      else {
        setOpenWhenReady(true);
        update({ q: text.trim() === '' ? undefined : text });
      }
    } else if (e.key === 'Escape') {
      setText('');
    }
  };

  const columns: ColumnsType<CustomerHit> = [
    {
      title: t('customer.code'),
      dataIndex: 'customerCode',
      width: 130,
      render: (code: string, hit) => (
        <Link to={`/customers/${hit.accountId}`} onClick={(e) => e.stopPropagation()}>
          {code}
        </Link>
      ),
    },
    {
      title: t('customer.name'),
      dataIndex: 'name',
      width: 180,
      render: (name: string, hit) => (
        <Space size={4} wrap>
          <Typography.Text strong>{name}</Typography.Text>
          {hit.kind === 'organisation' && <Tag>{t('enum.kind.organisation')}</Tag>}
        </Space>
      ),
    },
    { title: t('customer.address'), dataIndex: 'address', ellipsis: true },
    { title: t('customer.phone'), dataIndex: 'phone', width: 130 },
    {
      title: t('customer.meterNos'),
      dataIndex: 'meterNos',
      width: 140,
      render: (nos: string[]) => nos.join(', '),
    },
    {
      title: t('customer.state'),
      dataIndex: 'state',
      width: 90,
      render: (state: string) => <StateTag state={state} />,
    },
    { title: t('customer.office'), dataIndex: 'officeName', width: 120 },
    {
      title: t('customer.flags'),
      key: 'flags',
      width: 130,
      render: (_, hit) => (
        <Space size={2} wrap>
          {hit.blacklisted && <Tag color="red">{t('customer.blacklisted')}</Tag>}
          {hit.lowIncome && <Tag color="cyan">{t('customer.lowIncome')}</Tag>}
        </Space>
      ),
    },
  ];

  const select = (key: (typeof FILTER_KEYS)[number], options: { value: string; label: string }[]) => (
    <Select
      allowClear
      style={{ width: '100%' }}
      placeholder={t(`search.filter.${key}`)}
      value={params.get(key) ?? undefined}
      onChange={(v?: string) => update({ [key]: v })}
      options={options}
      data-testid={`filter-${key}`}
    />
  );
  const yesNo = [
    { value: 'true', label: t('common.yes') },
    { value: 'false', label: t('common.no') },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Card>
        <Space direction="vertical" size="middle" style={{ width: '100%' }}>
          <Row gutter={12} align="middle">
            <Col flex="auto">
              <Input
                ref={inputRef}
                className="search-box"
                size="large"
                allowClear
                autoFocus
                prefix={<SearchOutlined />}
                placeholder={t('search.placeholder')}
                aria-label={t('search.placeholder')}
                value={text}
                onChange={(e) => setText(e.target.value)}
                onKeyDown={onKeyDown}
                data-testid="customer-search"
              />
            </Col>
            {can('customer.write') && (
              <Col>
                <Link to="/customers/new">
                  <Button size="large" type="primary" icon={<PlusOutlined />}>
                    {t('menu.newCustomer')}
                  </Button>
                </Link>
              </Col>
            )}
          </Row>
          <Row gutter={[12, 8]}>
            <Col xs={24} sm={12} md={6} lg={5}>
              {select(
                'officeId',
                (me?.offices ?? []).map((o) => ({ value: String(o.officeId), label: o.name })),
              )}
            </Col>
            <Col xs={24} sm={12} md={6} lg={5}>
              {select(
                'state',
                (meta?.states ?? []).map((s) => ({ value: s, label: t(`enum.state.${s}`) })),
              )}
            </Col>
            <Col xs={24} sm={8} md={4} lg={4}>
              {select('kind', [
                { value: 'person', label: t('enum.kind.person') },
                { value: 'organisation', label: t('enum.kind.organisation') },
              ])}
            </Col>
            <Col xs={24} sm={8} md={4} lg={4}>
              {select('blacklisted', yesNo)}
            </Col>
            <Col xs={24} sm={8} md={4} lg={4}>
              {select('lowIncome', yesNo)}
            </Col>
          </Row>
          <Typography.Text type="secondary">{t('search.keyboardHint')}</Typography.Text>
        </Space>
      </Card>
      {result.error && <Alert type="error" showIcon message={result.error.message} />}
      {result.data?.more && (q !== '' || FILTER_KEYS.some((k) => params.get(k))) && (
        <Alert type="warning" showIcon message={t('search.tooMany')} data-testid="search-more" />
      )}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<CustomerHit>
          className="clickable-rows"
          rowKey="accountId"
          size="middle"
          columns={columns}
          dataSource={items}
          loading={result.loading}
          rowClassName={(_, index) => (index === active ? 'row-active' : '')}
          onRow={(hit, index) => ({
            onClick: () => open(hit),
            onMouseEnter: () => setActive(index ?? 0),
            onKeyDown: (e) => {
              if (e.key === 'Enter') open(hit);
            },
            tabIndex: 0,
          })}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: result.data?.total ?? 0,
            showSizeChanger: false,
            showTotal: (total) => t('search.total', { count: total }),
            onChange: (p) => update({ page: String(p) }),
          }}
          locale={{ emptyText: q ? t('search.noMatch') : t('search.empty') }}
          data-testid="search-results"
          scroll={{ x: 1000 }}
        />
      </Card>
    </Space>
  );
}
