import { Table, Tag } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AuditDiff } from '../../components/AuditDiff';
import { formatDateTime } from '../../components/format';
import { useApi } from '../../components/useApi';
import type { AuditRow, Page } from '../types';

const PAGE_SIZE = 20;

/** Who changed what on this customer, newest first, as a readable before → after. */
export function AuditTab({ accountId, refreshKey }: { accountId: number; refreshKey: number }) {
  const { t } = useTranslation();
  const [page, setPage] = useState(1);
  const result = useApi<Page<AuditRow>>(`/api/customers/${accountId}/audit`, { page, pageSize: PAGE_SIZE });
  const { reload } = result;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the record changed.
  useEffect(() => {
    if (refreshKey > 0) reload();
  }, [refreshKey]);

  return (
    <Table<AuditRow>
      rowKey="audit_id"
      size="small"
      loading={result.loading}
      dataSource={result.data?.items ?? []}
      data-testid="audit-table"
      pagination={{
        current: page,
        pageSize: PAGE_SIZE,
        total: result.data?.total ?? 0,
        showSizeChanger: false,
        onChange: setPage,
      }}
      columns={[
        { title: t('common.time'), dataIndex: 'at', width: 170, render: formatDateTime },
        {
          title: t('common.staff'),
          dataIndex: 'full_name',
          width: 110,
          render: (n: string | null, r) => n ?? r.username ?? t('audit.system'),
        },
        {
          title: t('audit.action'),
          key: 'action',
          width: 180,
          render: (_, r) => (
            <>
              <Tag>{t(`entity.${r.entity_type}`, { defaultValue: r.entity_type })}</Tag>
              {t(`action.${r.action}`, { defaultValue: r.action })}
            </>
          ),
        },
        {
          title: t('audit.changes'),
          key: 'diff',
          render: (_, r) => <AuditDiff before={r.before} after={r.after} />,
        },
      ]}
    />
  );
}
