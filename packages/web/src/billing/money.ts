import { formatFenAsYuan } from '@meterline/domain';

/**
 * Fen shown as yuan: ¥137,111.16, thousands grouped, '—' when there is no amount. The text moves
 * the decimal point (formatFenAsYuan); no floating point touches the amount.
 */
export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '—';
  const [whole = '0', fraction = '00'] = formatFenAsYuan(fen).split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = sign ? whole.slice(1) : whole;
  return `${sign}¥${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}
