import { ArrowDownOutlined, ArrowUpOutlined, HolderOutlined } from '@ant-design/icons';
import {
  closestCenter,
  DndContext,
  type DragEndEvent,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import {
  arrayMove,
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Button, Checkbox, Empty, Tag, Tooltip, Typography } from 'antd';
import { memo, useCallback, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { RouteMeter } from './types';

export const meterKey = (m: { accountId: number; meterId: number }) => `${m.accountId}:${m.meterId}`;

interface RowProps {
  meter: RouteMeter;
  position: number;
  count: number;
  editable: boolean;
  selected: boolean;
  moved: boolean;
  onSelect: (key: string, selected: boolean) => void;
  onStep: (index: number, delta: -1 | 1) => void;
}

const RouteRow = memo(function RouteRow({
  meter,
  position,
  count,
  editable,
  selected,
  moved,
  onSelect,
  onStep,
}: RowProps) {
  const { t } = useTranslation();
  const key = meterKey(meter);
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } =
    useSortable({ id: key, disabled: !editable });
  const style: React.CSSProperties = {
    transform: CSS.Transform.toString(transform),
    transition,
    zIndex: isDragging ? 2 : undefined,
  };
  return (
    <li
      ref={setNodeRef}
      style={style}
      className={`route-row${isDragging ? ' dragging' : ''}${moved ? ' moved' : ''}`}
      data-testid="route-row"
      data-meter-no={meter.meterNo}
    >
      {editable && (
        <Checkbox
          checked={selected}
          onChange={(e) => onSelect(key, e.target.checked)}
          aria-label={t('reading.route.selectMeter', { meterNo: meter.meterNo })}
        />
      )}
      {editable ? (
        <button
          type="button"
          ref={setActivatorNodeRef}
          className="route-handle"
          aria-label={t('reading.route.dragHandle', { meterNo: meter.meterNo })}
          data-testid="route-handle"
          {...attributes}
          {...listeners}
        >
          <HolderOutlined />
        </button>
      ) : (
        <span />
      )}
      <span className="route-seq">{position + 1}</span>
      <span className="route-meter">
        <Typography.Text strong>{meter.meterNo}</Typography.Text>
      </span>
      <span className="route-customer">
        {meter.state && meter.state !== 'active' && (
          <Tag style={{ marginRight: 4 }} title={t('reading.route.notRead')}>
            {t(`enum.state.${meter.state}`, { defaultValue: meter.state })}
          </Tag>
        )}
        <Link to={`/customers/${meter.accountId}`}>{meter.customerName}</Link>
        <Typography.Text type="secondary" style={{ marginLeft: 6, fontSize: 12 }}>
          {meter.customerCode}
        </Typography.Text>
      </span>
      <span className="route-address" title={meter.address}>
        {meter.address}
      </span>
      <span className="route-size">
        {meter.caliberDn ? `DN${meter.caliberDn}` : ''}{' '}
        {meter.mounting ? t(`enum.mounting.${meter.mounting}`, { defaultValue: meter.mounting }) : ''}
      </span>
      <span className="route-zone">
        {meter.zoneOverride ? (
          <Tooltip
            title={`${t('reading.zoneOverride.ruleClass', { zone: meter.zoneClass })}${
              meter.zoneOverrideReason ? `；${meter.zoneOverrideReason}` : ''
            }`}
          >
            <Tag color="orange">{t('reading.zoneOverride.short', { zone: meter.zoneOverride })}</Tag>
          </Tooltip>
        ) : (
          <Tag>{meter.zoneClass}</Tag>
        )}
        {meter.fitsBook === false && (
          <Tooltip title={t('reading.route.notFitHint')}>
            <Tag color="red" data-testid="route-not-fit">
              {t('reading.route.notFit')}
            </Tag>
          </Tooltip>
        )}
      </span>
      {editable && (
        <span className="route-steps">
          <Button
            size="small"
            type="text"
            icon={<ArrowUpOutlined />}
            disabled={position === 0}
            onClick={() => onStep(position, -1)}
            aria-label={t('reading.route.up', { meterNo: meter.meterNo })}
            data-testid="route-up"
          />
          <Button
            size="small"
            type="text"
            icon={<ArrowDownOutlined />}
            disabled={position === count - 1}
            onClick={() => onStep(position, 1)}
            aria-label={t('reading.route.down', { meterNo: meter.meterNo })}
            data-testid="route-down"
          />
        </span>
      )}
    </li>
  );
});

/**
 * A book's route as an ordered list: drag a row by its handle (mouse, touch, or the keyboard —
 * space to lift, arrows to move, space to drop) or step it with the up/down buttons.
 */
export function RouteList({
  meters,
  onChange,
  editable,
  selected,
  onSelect,
  onSelectAll,
  savedOrder,
}: {
  meters: RouteMeter[];
  onChange: (meters: RouteMeter[]) => void;
  editable: boolean;
  selected: ReadonlySet<string>;
  onSelect: (key: string, selected: boolean) => void;
  onSelectAll: (selected: boolean) => void;
  /** Keys in the saved order: rows whose place changed are marked. */
  savedOrder: readonly string[];
}) {
  const { t } = useTranslation();
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const ids = useMemo(() => meters.map(meterKey), [meters]);
  const savedIndex = useMemo(() => new Map(savedOrder.map((k, i) => [k, i])), [savedOrder]);

  const onDragEnd = (e: DragEndEvent) => {
    if (!e.over || e.active.id === e.over.id) return;
    const from = ids.indexOf(String(e.active.id));
    const to = ids.indexOf(String(e.over.id));
    if (from < 0 || to < 0) return;
    onChange(arrayMove(meters, from, to));
  };
  // Stable across renders, so a step re-renders only the rows whose props changed (memo).
  const latest = useRef({ meters, onChange });
  latest.current = { meters, onChange };
  const onStep = useCallback((index: number, delta: -1 | 1) => {
    const { meters: list, onChange: change } = latest.current;
    const to = index + delta;
    if (to < 0 || to >= list.length) return;
    change(arrayMove(list, index, to));
  }, []);

  if (meters.length === 0) return <Empty description={t('reading.route.empty')} />;
  const nameOf = (id: string | number) => meters.find((m) => meterKey(m) === String(id))?.meterNo ?? '';
  const positionOf = (id: string | number) => ids.indexOf(String(id)) + 1;

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      onDragEnd={onDragEnd}
      accessibility={{
        screenReaderInstructions: { draggable: t('reading.route.srInstructions') },
        announcements: {
          onDragStart: ({ active }) => t('reading.route.srPicked', { meterNo: nameOf(active.id) }),
          onDragOver: ({ active, over }) =>
            over
              ? t('reading.route.srOver', { meterNo: nameOf(active.id), position: positionOf(over.id) })
              : '',
          onDragEnd: ({ active, over }) =>
            over
              ? t('reading.route.srDropped', { meterNo: nameOf(active.id), position: positionOf(over.id) })
              : '',
          onDragCancel: ({ active }) => t('reading.route.srCancelled', { meterNo: nameOf(active.id) }),
        },
      }}
    >
      <SortableContext items={ids} strategy={verticalListSortingStrategy}>
        <div className={`route-head${editable ? ' editable' : ''}`}>
          {editable && (
            <Checkbox
              checked={selected.size > 0 && selected.size === meters.length}
              indeterminate={selected.size > 0 && selected.size < meters.length}
              onChange={(e) => onSelectAll(e.target.checked)}
              aria-label={t('reading.route.selectAll')}
            />
          )}
          <span />
          <span>{t('reading.route.seq')}</span>
          <span>{t('meter.meterNo')}</span>
          <span>{t('customer.name')}</span>
          <span>{t('customer.address')}</span>
          <span>{t('meter.caliber')}</span>
          <span>{t('reading.zoneClass')}</span>
          {editable && <span />}
        </div>
        <ol className={`route-list${editable ? ' editable' : ''}`} data-testid="route-list">
          {meters.map((m, i) => {
            const key = ids[i]!;
            return (
              <RouteRow
                key={key}
                meter={m}
                position={i}
                count={meters.length}
                editable={editable}
                selected={selected.has(key)}
                moved={savedIndex.get(key) !== i}
                onSelect={onSelect}
                onStep={onStep}
              />
            );
          })}
        </ol>
      </SortableContext>
    </DndContext>
  );
}
