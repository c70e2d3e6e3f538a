import { Tag } from 'antd';
import { useTranslation } from 'react-i18next';

const STATE_COLORS: Record<string, string> = {
  pending: 'gold',
  active: 'green',
  vacant: 'default',
  suspended: 'orange',
  sealed: 'red',
  demolished: 'purple',
  closed: 'default',
};

/** A customer state (正常 / 空房 / 报停 / 封停 …) as a coloured tag. */
export function StateTag({ state }: { state: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={STATE_COLORS[state] ?? 'default'} data-state={state}>
      {t(`enum.state.${state}`, { defaultValue: state })}
    </Tag>
  );
}
