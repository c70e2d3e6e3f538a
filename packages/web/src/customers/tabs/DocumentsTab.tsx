import { DeleteOutlined, FileOutlined, UploadOutlined } from '@ant-design/icons';
import { App, Button, Popconfirm, Select, Space, Table, Typography, Upload } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { formatBytes, formatDateTime } from '../../components/format';
import { useMeta } from '../../components/meta';
import { useErrorHandler } from '../../components/useErrorHandler';
import { type CustomerDetail, DOCUMENT_TYPES, type DocumentRow } from '../types';

const ACCEPT = '.pdf,.jpg,.jpeg,.png,.gif,.webp,.tif,.tiff,.doc,.docx,.xls,.xlsx';

/** The customer file: ID cards, certificates, contracts, meter photos… Upload, open, withdraw. */
export function DocumentsTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const meta = useMeta();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [docType, setDocType] = useState<string>('id_card');
  const [uploading, setUploading] = useState(false);
  const base = `/api/customers/${data.customer.account_id}/documents`;
  const editable = can('document.write');

  const upload = async (file: File) => {
    if (meta && file.size > meta.documentMaxBytes) {
      void message.error(t('documents.tooLarge', { max: formatBytes(meta.documentMaxBytes) }));
      return;
    }
    const body = new FormData();
    // The server reads the type before the file: append it first.
    body.append('docType', docType);
    body.append('file', file, file.name);
    setUploading(true);
    try {
      await api(base, { method: 'POST', body });
      void message.success(t('documents.uploaded', { name: file.name }));
      onChanged();
    } catch (e) {
      handle(e);
    } finally {
      setUploading(false);
    }
  };

  const withdraw = async (doc: DocumentRow) => {
    try {
      await api(`${base}/${doc.document_id}`, { method: 'DELETE' });
      void message.success(t('documents.withdrawn'));
      onChanged();
    } catch (e) {
      handle(e);
    }
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      {editable && (
        <Space wrap>
          <Select
            style={{ width: 200 }}
            value={docType}
            onChange={setDocType}
            options={DOCUMENT_TYPES.map((d) => ({ value: d, label: t(`enum.docType.${d}`) }))}
            aria-label={t('documents.type')}
          />
          <Upload
            accept={ACCEPT}
            showUploadList={false}
            beforeUpload={(file) => {
              void upload(file);
              return false;
            }}
          >
            <Button type="primary" icon={<UploadOutlined />} loading={uploading}>
              {t('documents.upload')}
            </Button>
          </Upload>
          <Typography.Text type="secondary">{t('documents.hint')}</Typography.Text>
        </Space>
      )}
      <Table<DocumentRow>
        rowKey="document_id"
        size="small"
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        dataSource={data.documents}
        columns={[
          {
            title: t('documents.type'),
            dataIndex: 'doc_type',
            width: 140,
            render: (d: string) => t(`enum.docType.${d}`),
          },
          {
            title: t('documents.file'),
            dataIndex: 'file_name',
            render: (name: string, doc) => (
              <a href={`${base}/${doc.document_id}`} target="_blank" rel="noreferrer">
                <FileOutlined /> {name}
              </a>
            ),
          },
          {
            title: t('documents.size'),
            dataIndex: 'size_bytes',
            width: 100,
            render: (n: number) => formatBytes(Number(n)),
          },
          { title: t('documents.uploadedAt'), dataIndex: 'uploaded_at', width: 170, render: formatDateTime },
          { title: t('documents.uploadedBy'), dataIndex: 'uploaded_by_name', width: 110 },
          ...(editable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 100,
                  render: (_: unknown, doc: DocumentRow) => (
                    <Popconfirm title={t('documents.confirmWithdraw')} onConfirm={() => withdraw(doc)}>
                      <Button size="small" danger icon={<DeleteOutlined />}>
                        {t('documents.withdraw')}
                      </Button>
                    </Popconfirm>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Space>
  );
}
