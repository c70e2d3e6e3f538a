import { todayInChina } from '@meterline/domain';
import { DatePicker } from 'antd';
import dayjs from 'dayjs';

export const DATE_FORMAT = 'YYYY-MM-DD';

interface Props {
  value?: string | null;
  onChange?: (value: string | null) => void;
  /** Dates after today cannot be picked (install dates, listing dates…). */
  notFuture?: boolean;
  id?: string;
  disabled?: boolean;
  allowClear?: boolean;
  style?: React.CSSProperties;
}

/** A calendar date kept as the plain 'YYYY-MM-DD' string the API uses, never a timezone instant. */
export function DateInput({ value, onChange, notFuture, id, disabled, allowClear = true, style }: Props) {
  return (
    <DatePicker
      id={id}
      style={{ width: '100%', ...style }}
      format={DATE_FORMAT}
      disabled={disabled}
      allowClear={allowClear}
      value={value ? dayjs(value, DATE_FORMAT) : null}
      onChange={(d) => onChange?.(d ? d.format(DATE_FORMAT) : null)}
      disabledDate={notFuture ? (d) => d.format(DATE_FORMAT) > todayInChina() : undefined}
    />
  );
}

/** Today as YYYY-MM-DD in the browser's calendar. */
/** Today in the utility's time (China), as the server reckons days. */
export function today(): string {
  return todayInChina();
}
