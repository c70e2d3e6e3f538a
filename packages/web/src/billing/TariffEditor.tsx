import { DeleteOutlined, PlusOutlined, UndoOutlined } from '@ant-design/icons';
import { fenToYuan, MAX_BLOCKS, MAX_SURCHARGES, todayInChina } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  type FormInstance,
  Input,
  Popconfirm,
  Radio,
  Row,
  Space,
  Tabs,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, namePath } from '../api';
import { DATE_FORMAT, DateInput } from '../components/DateInput';
import { useErrorHandler } from '../components/useErrorHandler';
import { currentLang } from '../i18n';
import { TariffPreview } from './TariffPreview';
import { TariffStaircase } from './TariffStaircase';
import {
  type BilledVersion,
  type BlockForm,
  forForm,
  isYuanAmount,
  isYuanPrice,
  sumFen,
  type TariffDetail,
  type TariffForm,
  tariffFromForm,
  type VersionForm,
  versionFromForm,
  versionIndexOf,
  versionToForm,
} from './tariffForm';

/** The surcharges Chinese water tariffs carry, offered when adding one. */
const SURCHARGE_PRESETS = [
  { code: 'sewage', name: { 'zh-CN': '污水处理费', en: 'Sewage treatment' } },
  { code: 'water_resource', name: { 'zh-CN': '水资源费', en: 'Water-resource fee' } },
  { code: 'garbage', name: { 'zh-CN': '垃圾处理费', en: 'Refuse collection' } },
];

function formOf(detail: TariffDetail): TariffForm {
  return {
    chargeName: detail.chargeName ?? detail.suggestedChargeName,
    versions: detail.versions.map(versionToForm),
  };
}

/** The tab to open first: the version in effect today, else the latest. */
function initialTab(versions: VersionForm[]): number {
  const today = todayInChina();
  const i = versions.findIndex(
    (v) => (v.effectiveFrom ?? '') <= today && (v.effectiveTo === null || (v.effectiveTo ?? '') >= today),
  );
  return i >= 0 ? i : Math.max(0, versions.length - 1);
}

/** A month to preview in: last month when the version covers it, else its first month. */
function previewPeriodFor(
  start: string | null | undefined,
  end: string | null | undefined,
): { from: string; to: string } {
  const lastMonth = dayjs(todayInChina()).subtract(1, 'month');
  const from = lastMonth.startOf('month').format(DATE_FORMAT);
  const to = lastMonth.endOf('month').format(DATE_FORMAT);
  if (!start || !dayjs(start, DATE_FORMAT, true).isValid()) return { from, to };
  if (start <= from && (!end || end >= to)) return { from, to };
  const monthEnd = dayjs(start).endOf('month').format(DATE_FORMAT);
  return { from: start, to: end && end < monthEnd ? end : monthEnd };
}

const priceRule = (message: string) => ({
  validator: async (_: unknown, value: string | undefined) => {
    if (value === undefined || value === null || String(value).trim() === '') throw new Error(message);
    if (!isYuanPrice(String(value))) throw new Error(message);
  },
});

/** Surcharge prices added to a block price, as yuan per m³ (exact: fen prices added as text). */
function allInYuan(priceYuan: string | undefined, version: VersionForm | undefined): string | null {
  const v = versionFromForm({
    ...(version as VersionForm),
    charge: { kind: 'flat', priceYuanPerM3: priceYuan ?? '' },
  });
  if (v.charge.kind !== 'flat') return null;
  const sum = sumFen([v.charge.priceFenPerM3, ...v.surcharges.map((s) => s.priceFenPerM3)]);
  return sum === null ? null : fenToYuan(sum);
}

function BlockTable({
  form,
  versionIndex,
  locked,
  canEdit,
  version,
}: {
  form: FormInstance;
  versionIndex: number;
  locked: boolean;
  canEdit: boolean;
  version: VersionForm | undefined;
}) {
  const { t } = useTranslation();
  const path = ['versions', versionIndex, 'charge', 'blocks'];
  return (
    <Form.List name={[versionIndex, 'charge', 'blocks']}>
      {(fields, { add, remove }) => (
        <div data-testid={`blocks-${versionIndex}`}>
          <Row gutter={8} className="tariff-block-head">
            <Col span={3}>
              <Typography.Text type="secondary">{t('tariffs.block.no')}</Typography.Text>
            </Col>
            <Col span={5}>
              <Typography.Text type="secondary">{t('tariffs.block.from')}</Typography.Text>
            </Col>
            <Col span={5}>
              <Typography.Text type="secondary">{t('tariffs.block.to')}</Typography.Text>
            </Col>
            <Col span={5}>
              <Typography.Text type="secondary">{t('tariffs.block.price')}</Typography.Text>
            </Col>
            <Col span={4}>
              <Tooltip title={t('tariffs.block.allInHint')}>
                <Typography.Text type="secondary">{t('tariffs.block.allIn')}</Typography.Text>
              </Tooltip>
            </Col>
          </Row>
          {fields.map((field, b) => {
            const last = b === fields.length - 1;
            const block: BlockForm | undefined = version?.charge.blocks?.[b];
            return (
              <Row gutter={8} key={field.key} align="top" data-testid="block-row">
                <Col span={3} style={{ paddingTop: 5 }}>
                  {t('tariffs.block.nth', { n: b + 1 })}
                </Col>
                <Col span={5}>
                  <Form.Item name={[field.name, 'fromM3']}>
                    <Input
                      suffix="m³"
                      inputMode="decimal"
                      disabled={locked || undefined}
                      data-testid={`block-from-${versionIndex}-${b}`}
                    />
                  </Form.Item>
                </Col>
                <Col span={5}>
                  <Form.Item name={[field.name, 'toM3']}>
                    <Input
                      suffix="m³"
                      inputMode="decimal"
                      disabled={locked || undefined}
                      placeholder={last ? t('tariffs.block.open') : undefined}
                      data-testid={`block-to-${versionIndex}-${b}`}
                    />
                  </Form.Item>
                </Col>
                <Col span={5}>
                  <Form.Item
                    name={[field.name, 'priceYuanPerM3']}
                    rules={[priceRule(t('tariffs.priceFormat'))]}
                  >
                    <Input
                      suffix={t('tariffs.yuan')}
                      inputMode="decimal"
                      disabled={locked || undefined}
                      data-testid={`block-price-${versionIndex}-${b}`}
                    />
                  </Form.Item>
                </Col>
                <Col span={4} style={{ paddingTop: 5 }}>
                  <Typography.Text data-testid={`block-all-in-${versionIndex}-${b}`}>
                    {allInYuan(block?.priceYuanPerM3, version) ?? '—'}
                  </Typography.Text>
                </Col>
                <Col span={2}>
                  {canEdit && !locked && fields.length > 1 && (
                    <Button
                      type="text"
                      danger
                      icon={<DeleteOutlined />}
                      aria-label={t('tariffs.block.remove')}
                      onClick={() => {
                        remove(field.name);
                        // The block after takes over where the removed one started.
                        const blocks: BlockForm[] = form.getFieldValue(path) ?? [];
                        if (b === blocks.length && blocks.length > 0)
                          form.setFieldValue([...path, blocks.length - 1, 'toM3'], null);
                      }}
                    />
                  )}
                </Col>
              </Row>
            );
          })}
          {canEdit && !locked && fields.length < MAX_BLOCKS && (
            <Button
              type="dashed"
              icon={<PlusOutlined />}
              onClick={() => {
                const blocks: BlockForm[] = form.getFieldValue(path) ?? [];
                const lastBlock = blocks[blocks.length - 1];
                // The open last block gets an upper bound to fill in; the new one is open-ended.
                if (lastBlock && !lastBlock.toM3)
                  form.setFieldValue([...path, blocks.length - 1, 'toM3'], '');
                add({ fromM3: lastBlock?.toM3 ?? '', toM3: null, priceYuanPerM3: '' });
              }}
              data-testid={`block-add-${versionIndex}`}
            >
              {t('tariffs.block.add')}
            </Button>
          )}
        </div>
      )}
    </Form.List>
  );
}

function VersionFields({
  form,
  index,
  version,
  billed,
  canEdit,
}: {
  form: FormInstance;
  index: number;
  version: VersionForm | undefined;
  billed: BilledVersion | undefined;
  canEdit: boolean;
}) {
  const { t } = useTranslation();
  const lang = currentLang();
  const locked = Boolean(billed);
  const kind = version?.charge.kind ?? 'flat';
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="small">
      {billed && (
        <Alert
          type="info"
          showIcon
          data-testid={`version-billed-${index}`}
          message={t('tariffs.billedLocked', {
            bills: billed.bills,
            from: billed.firstDay,
            to: billed.lastDay,
          })}
        />
      )}
      <Row gutter={12}>
        <Col xs={24} md={6}>
          <Form.Item
            name={[index, 'version']}
            label={t('tariffs.version.label')}
            tooltip={t('tariffs.version.labelHint')}
            rules={[{ required: true, message: t('tariffs.required') }]}
          >
            <Input maxLength={20} disabled={locked || undefined} data-testid={`version-label-${index}`} />
          </Form.Item>
        </Col>
        <Col xs={12} md={9}>
          <Form.Item
            name={[index, 'effectiveFrom']}
            label={t('tariffs.version.from')}
            rules={[{ required: true, message: t('tariffs.required') }]}
          >
            <DateInput allowClear={false} />
          </Form.Item>
        </Col>
        <Col xs={12} md={9}>
          <Form.Item
            name={[index, 'effectiveTo']}
            label={t('tariffs.version.to')}
            extra={version?.effectiveTo ? undefined : t('tariffs.version.openHint')}
          >
            <DateInput />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={12}>
        <Col xs={24} md={10}>
          <Form.Item name={[index, 'charge', 'kind']} label={t('tariffs.charge.kind')}>
            <Radio.Group
              disabled={locked || undefined}
              optionType="button"
              data-testid={`charge-kind-${index}`}
            >
              <Radio value="flat">{t('tariffs.charge.flat')}</Radio>
              <Radio value="blocks">{t('tariffs.charge.blocks')}</Radio>
            </Radio.Group>
          </Form.Item>
        </Col>
        {kind === 'blocks' && (
          <Col xs={24} md={14}>
            <Form.Item name={[index, 'charge', 'basis']} label={t('tariffs.charge.basis')}>
              <Radio.Group disabled={locked || undefined}>
                <Radio value="annual">{t('tariffs.charge.annual')}</Radio>
                <Radio value="monthly">{t('tariffs.charge.monthly')}</Radio>
              </Radio.Group>
            </Form.Item>
          </Col>
        )}
      </Row>
      {kind === 'flat' ? (
        <Row gutter={12}>
          <Col xs={24} md={8}>
            <Form.Item
              name={[index, 'charge', 'priceYuanPerM3']}
              label={t('tariffs.charge.price')}
              rules={[priceRule(t('tariffs.priceFormat'))]}
            >
              <Input
                suffix={t('tariffs.yuanPerM3')}
                inputMode="decimal"
                disabled={locked || undefined}
                data-testid={`flat-price-${index}`}
              />
            </Form.Item>
          </Col>
        </Row>
      ) : (
        <BlockTable form={form} versionIndex={index} locked={locked} canEdit={canEdit} version={version} />
      )}
      <Typography.Text strong>{t('tariffs.surcharge.title')}</Typography.Text>
      <Form.List name={[index, 'surcharges']}>
        {(fields, { add, remove }) => (
          <>
            {fields.map((field, s) => (
              <Row gutter={8} key={field.key} align="top" data-testid="surcharge-row">
                <Col span={5}>
                  <Form.Item
                    name={[field.name, 'code']}
                    rules={[{ required: true, message: t('tariffs.required') }]}
                  >
                    <Input placeholder={t('tariffs.surcharge.code')} disabled={locked || undefined} />
                  </Form.Item>
                </Col>
                <Col span={6}>
                  <Form.Item name={[field.name, 'name', 'zh-CN']}>
                    <Input placeholder={t('tariffs.surcharge.nameZh')} />
                  </Form.Item>
                </Col>
                <Col span={6}>
                  <Form.Item name={[field.name, 'name', 'en']}>
                    <Input placeholder={t('tariffs.surcharge.nameEn')} />
                  </Form.Item>
                </Col>
                <Col span={5}>
                  <Form.Item
                    name={[field.name, 'priceYuanPerM3']}
                    rules={[priceRule(t('tariffs.priceFormat'))]}
                  >
                    <Input
                      suffix={t('tariffs.yuanPerM3')}
                      inputMode="decimal"
                      disabled={locked || undefined}
                      data-testid={`surcharge-price-${index}-${s}`}
                    />
                  </Form.Item>
                </Col>
                <Col span={2}>
                  {canEdit && !locked && (
                    <Button
                      type="text"
                      danger
                      icon={<DeleteOutlined />}
                      aria-label={t('tariffs.surcharge.remove')}
                      onClick={() => remove(field.name)}
                    />
                  )}
                </Col>
              </Row>
            ))}
            {canEdit && !locked && fields.length < MAX_SURCHARGES && (
              <Space wrap style={{ marginBottom: 12 }}>
                {SURCHARGE_PRESETS.filter((p) => !version?.surcharges.some((s) => s?.code === p.code)).map(
                  (p) => (
                    <Button
                      key={p.code}
                      size="small"
                      icon={<PlusOutlined />}
                      onClick={() => add({ code: p.code, name: { ...p.name }, priceYuanPerM3: '' })}
                    >
                      {p.name[lang]}
                    </Button>
                  ),
                )}
                <Button
                  size="small"
                  type="dashed"
                  icon={<PlusOutlined />}
                  onClick={() => add({ code: '', name: { 'zh-CN': '', en: '' }, priceYuanPerM3: '' })}
                >
                  {t('tariffs.surcharge.other')}
                </Button>
              </Space>
            )}
          </>
        )}
      </Form.List>
      <Row gutter={12}>
        <Col xs={24} md={8}>
          <Form.Item
            name={[index, 'minimumChargeYuanPerMonth']}
            label={t('tariffs.minimum.label')}
            tooltip={t('tariffs.minimum.hint')}
            rules={[
              {
                validator: async (_: unknown, value: string | undefined) => {
                  if (value && value.trim() !== '' && !isYuanAmount(value))
                    throw new Error(t('tariffs.minimum.format'));
                },
              },
            ]}
          >
            <Input
              suffix={t('tariffs.yuanPerMonth')}
              placeholder={t('tariffs.minimum.none')}
              disabled={locked || undefined}
            />
          </Form.Item>
        </Col>
      </Row>
    </Space>
  );
}

/**
 * Edits one usage type's tariff: its versions by effective date, each flat or in blocks (monthly or
 * annual) with surcharges and a minimum charge, prices typed in yuan. The server's reasons land on
 * the fields; a preview and the block staircase follow every keystroke. Read-only without
 * tariff.admin.
 */
export function TariffEditor({
  detail,
  canEdit,
  onSaved,
}: {
  detail: TariffDetail;
  canEdit: boolean;
  onSaved: (saved: TariffDetail) => void;
}) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  // Untyped: the editor addresses nested list fields by computed paths.
  const [form] = Form.useForm();
  const initial = useMemo(() => formOf(detail), [detail]);
  const [values, setValues] = useState<TariffForm>(initial);
  const previous = useRef<TariffForm>(initial);
  /** Fields showing a reason from the server's last refusal. */
  const serverMarked = useRef<(string | number)[][]>([]);
  const [active, setActive] = useState(() => initialTab(initial.versions));
  const [busy, setBusy] = useState(false);
  const [markM3, setMarkM3] = useState<number | null>(null);

  const snapshot = useCallback(() => {
    const all = structuredClone(form.getFieldsValue(true)) as TariffForm;
    previous.current = all;
    setValues(all);
  }, [form]);

  useEffect(() => {
    form.resetFields();
    form.setFieldsValue(initial);
    previous.current = initial;
    setValues(initial);
    // A save reloads the tariff: the same tab (and the preview's figures) stay in front.
  }, [form, initial]);

  /** Keeps blocks joined while typing: block n+1 starts where block n ends, unless it was moved apart. */
  const onValuesChange = (changed: Partial<TariffForm>) => {
    // The server's reasons were about the tariff as it was sent; after any edit the preview speaks.
    if (serverMarked.current.length > 0) {
      form.setFields(serverMarked.current.map((name) => ({ name, errors: [] })));
      serverMarked.current = [];
    }
    const before = previous.current;
    (changed.versions ?? []).forEach((v, i) => {
      if (!v) return;
      const blocks = v.charge?.blocks;
      if (Array.isArray(blocks))
        blocks.forEach((b, j) => {
          if (!b || !('toM3' in b)) return;
          const oldTo = before.versions?.[i]?.charge.blocks?.[j]?.toM3 ?? '';
          const next = before.versions?.[i]?.charge.blocks?.[j + 1];
          if (next && (next.fromM3 ?? '') === (oldTo ?? ''))
            form.setFieldValue(['versions', i, 'charge', 'blocks', j + 1, 'fromM3'], b.toM3 ?? '');
        });
      const kind = v.charge?.kind;
      const was = before.versions?.[i];
      if (kind === 'blocks' && was && (was.charge.blocks ?? []).length === 0) {
        const price = was.charge.priceYuanPerM3 ?? '';
        form.setFieldValue(['versions', i, 'charge', 'basis'], was.charge.basis ?? 'annual');
        form.setFieldValue(
          ['versions', i, 'charge', 'blocks'],
          [
            { fromM3: '0', toM3: '', priceYuanPerM3: price },
            { fromM3: '', toM3: null, priceYuanPerM3: '' },
          ],
        );
      }
      if (kind === 'flat' && was && !was.charge.priceYuanPerM3)
        form.setFieldValue(
          ['versions', i, 'charge', 'priceYuanPerM3'],
          was.charge.blocks?.[0]?.priceYuanPerM3 ?? '',
        );
    });
    snapshot();
  };

  const billedOf = (label: string | undefined) => detail.billed.find((b) => b.version === label);

  const addVersion = () => {
    const versions: VersionForm[] = structuredClone(form.getFieldValue('versions') ?? []);
    const today = dayjs(todayInChina());
    let from = today.add(1, 'month').startOf('month');
    const latest = [...versions]
      .sort((a, b) => (a.effectiveFrom ?? '').localeCompare(b.effectiveFrom ?? ''))
      .pop();
    if (latest) {
      if (latest.effectiveTo) from = dayjs(latest.effectiveTo).add(1, 'day');
      else if (latest.effectiveFrom && from.format(DATE_FORMAT) <= latest.effectiveFrom)
        from = dayjs(latest.effectiveFrom).add(1, 'month').startOf('month');
      // The version in effect so far ends the day before the new one starts.
      if (!latest.effectiveTo) latest.effectiveTo = from.subtract(1, 'day').format(DATE_FORMAT);
    }
    const fresh: VersionForm = latest
      ? { ...structuredClone(latest), effectiveTo: null }
      : {
          version: '',
          effectiveFrom: null,
          effectiveTo: null,
          charge: { kind: 'flat', priceYuanPerM3: '', basis: 'annual', blocks: [] },
          surcharges: [],
          minimumChargeYuanPerMonth: '',
        };
    if (!latest) from = today.startOf('year');
    fresh.version = from.format('YYYY-MM');
    fresh.effectiveFrom = from.format(DATE_FORMAT);
    form.setFieldValue('versions', [...versions, fresh]);
    snapshot();
    setActive(versions.length);
  };

  const removeVersion = (index: number) => {
    const versions: VersionForm[] = form.getFieldValue('versions') ?? [];
    form.setFieldValue(
      'versions',
      versions.filter((_, i) => i !== index),
    );
    snapshot();
    setActive(Math.max(0, Math.min(index, versions.length - 2)));
  };

  const showProblems = (error: unknown) => {
    const mapped = forForm(error);
    if (mapped instanceof ApiError) {
      const first = mapped.fields.map((f) => versionIndexOf(f.path)).find((i) => i !== null);
      if (first !== undefined && first !== null) setActive(first);
      if (mapped.code === 'VERSION_CONFLICT') {
        modal.confirm({
          title: mapped.message,
          okText: t('tariffs.reloadLatest'),
          cancelText: t('common.cancel'),
          onOk: () => onSaved(detail),
        });
        return;
      }
    }
    if (mapped instanceof ApiError) serverMarked.current = mapped.fields.map((f) => namePath(f.path));
    // After the tab switch has rendered, so the marked field is scrolled into view.
    setTimeout(() => handle(mapped, form), 0);
  };

  const save = async () => {
    try {
      await form.validateFields();
    } catch (info) {
      const name = (info as { errorFields?: { name: (string | number)[] }[] }).errorFields?.[0]?.name;
      if (name && name[0] === 'versions' && typeof name[1] === 'number') setActive(name[1]);
      return;
    }
    setBusy(true);
    try {
      const body = { ...tariffFromForm(form.getFieldsValue(true)), revision: detail.revision };
      const saved = await api<TariffDetail>(`/api/tariffs/${encodeURIComponent(detail.usageType)}`, {
        method: 'PUT',
        body,
      });
      void message.success(t('tariffs.saved', { revision: saved.revision }));
      onSaved(saved);
    } catch (e) {
      showProblems(e);
    } finally {
      setBusy(false);
    }
  };

  const edited = useMemo(() => tariffFromForm(values), [values]);
  const dirty = useMemo(
    () => JSON.stringify(edited) !== JSON.stringify(tariffFromForm(initial)),
    [edited, initial],
  );
  const tab = Math.min(active, Math.max(0, (values.versions?.length ?? 0) - 1));
  const activeVersion = values.versions?.[tab];
  const chartVersion = useMemo(
    () => (activeVersion ? versionFromForm(activeVersion) : null),
    [activeVersion],
  );
  // Only a change of the version's dates moves the preview's period.
  const versionFrom = activeVersion?.effectiveFrom;
  const versionTo = activeVersion?.effectiveTo;
  const period = useMemo(() => previewPeriodFor(versionFrom, versionTo), [versionFrom, versionTo]);
  const annual = chartVersion?.charge.kind === 'blocks' && chartVersion.charge.basis === 'annual';

  return (
    <Row gutter={16} align="top">
      <Col xs={24} xl={15}>
        <Card
          size="small"
          title={
            <Space>
              {t('tariffs.editor.title')}
              {dirty && (
                <Tag color="orange" data-testid="tariff-dirty">
                  {t('tariffs.editor.unsaved')}
                </Tag>
              )}
            </Space>
          }
          extra={
            canEdit && (
              <Space>
                <Button
                  icon={<UndoOutlined />}
                  disabled={!dirty || busy}
                  onClick={() => {
                    form.resetFields();
                    form.setFieldsValue(initial);
                    snapshot();
                  }}
                >
                  {t('common.reset')}
                </Button>
                <Button type="primary" loading={busy} onClick={save} data-testid="tariff-save">
                  {t('common.save')}
                </Button>
              </Space>
            )
          }
        >
          {!canEdit && (
            <Alert type="info" showIcon style={{ marginBottom: 12 }} message={t('tariffs.readOnly')} />
          )}
          <Form
            form={form}
            name="tariff"
            layout="vertical"
            disabled={!canEdit}
            initialValues={initial}
            onValuesChange={onValuesChange}
          >
            <Row gutter={12}>
              <Col xs={12} md={8}>
                <Form.Item
                  name={['chargeName', 'zh-CN']}
                  label={t('tariffs.chargeNameZh')}
                  rules={[{ required: true, message: t('tariffs.required') }]}
                >
                  <Input maxLength={40} />
                </Form.Item>
              </Col>
              <Col xs={12} md={8}>
                <Form.Item
                  name={['chargeName', 'en']}
                  label={t('tariffs.chargeNameEn')}
                  rules={[{ required: true, message: t('tariffs.required') }]}
                >
                  <Input maxLength={80} />
                </Form.Item>
              </Col>
            </Row>
            <Form.List name="versions">
              {(fields) => (
                <Tabs
                  activeKey={String(tab)}
                  onChange={(k) => setActive(Number(k))}
                  data-testid="version-tabs"
                  tabBarExtraContent={
                    canEdit && (
                      <Button
                        size="small"
                        icon={<PlusOutlined />}
                        onClick={addVersion}
                        data-testid="version-add"
                      >
                        {t('tariffs.version.add')}
                      </Button>
                    )
                  }
                  items={fields.map((field, index) => {
                    const v = values.versions?.[index];
                    const billed = billedOf(v?.version);
                    return {
                      key: String(index),
                      forceRender: true,
                      label: (
                        <span data-testid={`version-tab-${index}`}>
                          {v?.version || t('tariffs.version.unnamed')}
                          <Typography.Text type="secondary" style={{ marginLeft: 6, fontSize: 12 }}>
                            {v?.effectiveFrom || '?'} ~ {v?.effectiveTo || t('tariffs.version.open')}
                          </Typography.Text>
                          {billed && (
                            <Tag color="blue" style={{ marginLeft: 6 }}>
                              {t('tariffs.billedTag')}
                            </Tag>
                          )}
                        </span>
                      ),
                      children: (
                        <>
                          <VersionFields
                            form={form}
                            index={field.name}
                            version={v}
                            billed={billed}
                            canEdit={canEdit}
                          />
                          {canEdit && !billed && fields.length > 1 && (
                            <Popconfirm
                              title={t('tariffs.version.removeConfirm', { version: v?.version ?? '' })}
                              okText={t('common.delete')}
                              cancelText={t('common.cancel')}
                              onConfirm={() => removeVersion(index)}
                            >
                              <Button danger size="small" icon={<DeleteOutlined />}>
                                {t('tariffs.version.remove')}
                              </Button>
                            </Popconfirm>
                          )}
                        </>
                      ),
                    };
                  })}
                />
              )}
            </Form.List>
            {values.versions?.length === 0 && (
              <Alert
                type="warning"
                showIcon
                message={t('tariffs.noVersions')}
                action={
                  canEdit && (
                    <Button size="small" onClick={addVersion} data-testid="version-add-first">
                      {t('tariffs.version.add')}
                    </Button>
                  )
                }
              />
            )}
          </Form>
        </Card>
      </Col>
      <Col xs={24} xl={9}>
        <Space direction="vertical" style={{ width: '100%' }}>
          {edited.versions.length > 0 && (
            <TariffPreview
              usageType={detail.usageType}
              tariff={edited}
              period={period}
              onPosition={setMarkM3}
            />
          )}
          <Card size="small" title={t('tariffs.chart.title')}>
            <Typography.Paragraph type="secondary" style={{ marginBottom: 4 }}>
              {t('tariffs.chart.hint', { version: activeVersion?.version ?? '' })}
            </Typography.Paragraph>
            <TariffStaircase version={chartVersion} markM3={annual ? markM3 : null} />
          </Card>
        </Space>
      </Col>
    </Row>
  );
}
