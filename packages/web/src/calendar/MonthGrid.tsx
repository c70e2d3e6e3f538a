import dayjs from 'dayjs';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { CalendarDay, DayKind } from '../reading/types';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

/** The kind of a day: as the calendar stores it, else by the weekend rule. */
export function kindOf(date: string, days: ReadonlyMap<string, CalendarDay>): DayKind {
  const stored = days.get(date);
  if (stored) return stored.kind;
  const weekday = dayjs(date).day();
  return weekday === 0 || weekday === 6 ? 'weekend' : 'workday';
}

export function isWorkingKind(kind: DayKind): boolean {
  return kind === 'workday' || kind === 'adjusted_workday';
}

/** The cells of a month's grid, Monday first, padded to whole weeks. */
function gridOf(year: number, month: number): { key: string; date: string | null }[] {
  const first = dayjs(`${year}-${String(month).padStart(2, '0')}-01`);
  const lead = (first.day() + 6) % 7;
  const cells: { key: string; date: string | null }[] = Array.from({ length: lead }, (_, n) => ({
    key: `lead-${n}`,
    date: null,
  }));
  for (let d = 0; d < first.daysInMonth(); d++) {
    const date = first.add(d, 'day').format('YYYY-MM-DD');
    cells.push({ key: date, date });
  }
  while (cells.length % 7 !== 0) cells.push({ key: `trail-${cells.length}`, date: null });
  return cells;
}

/**
 * One month as a grid of weeks (Monday first); each day coloured by its kind (working day,
 * weekend, holiday, adjusted working day 调休上班) with what the caller puts in it.
 */
export function MonthGrid({
  year,
  month,
  days,
  size = 'small',
  renderCell,
  onCellClick,
  title,
  selected,
}: {
  year: number;
  month: number;
  days: ReadonlyMap<string, CalendarDay>;
  size?: 'small' | 'large';
  renderCell?: (date: string, kind: DayKind) => ReactNode;
  onCellClick?: (date: string, kind: DayKind) => void;
  title?: ReactNode;
  selected?: string | null;
}) {
  const { t } = useTranslation();
  const todayIs = dayjs().format('YYYY-MM-DD');
  return (
    <div className={`month-grid month-grid-${size}`} data-testid={`month-${month}`}>
      {title && <div className="month-grid-title">{title}</div>}
      <div className="month-grid-cells">
        {WEEKDAYS.map((w) => (
          <div key={w} className="month-grid-weekday">
            {t(`calendar.weekday.${w}`)}
          </div>
        ))}
        {gridOf(year, month).map(({ key, date }) => {
          if (!date) return <div key={key} className="month-grid-pad" />;
          const kind = kindOf(date, days);
          const stored = days.get(date);
          const label = `${date} ${t(`calendar.kind.${kind}`)}${stored?.name ? ` ${stored.name}` : ''}`;
          const classes = [
            'month-grid-cell',
            `kind-${kind}`,
            date === todayIs ? 'is-today' : '',
            date === selected ? 'is-selected' : '',
            onCellClick ? 'is-clickable' : '',
          ]
            .filter(Boolean)
            .join(' ');
          const content = (
            <>
              <span className="month-grid-date">
                {Number(date.slice(8))}
                {stored?.name && size === 'large' && <span className="month-grid-name">{stored.name}</span>}
                {kind === 'adjusted_workday' && (
                  <span className="month-grid-mark">{t('calendar.adjustedShort')}</span>
                )}
                {kind === 'holiday' && <span className="month-grid-mark">{t('calendar.holidayShort')}</span>}
              </span>
              {renderCell?.(date, kind)}
            </>
          );
          return onCellClick ? (
            <button
              type="button"
              key={date}
              className={classes}
              aria-label={label}
              title={label}
              data-date={date}
              data-kind={kind}
              onClick={() => onCellClick(date, kind)}
            >
              {content}
            </button>
          ) : (
            <div key={date} className={classes} title={label} data-date={date} data-kind={kind}>
              {content}
            </div>
          );
        })}
      </div>
    </div>
  );
}

/** A legend of the day kinds' colours. */
export function KindLegend() {
  const { t } = useTranslation();
  return (
    <div className="kind-legend">
      {(['workday', 'weekend', 'holiday', 'adjusted_workday'] as const).map((k) => (
        <span key={k} className="kind-legend-item">
          <span className={`kind-legend-swatch kind-${k}`} />
          {t(`calendar.kind.${k}`)}
        </span>
      ))}
    </div>
  );
}
