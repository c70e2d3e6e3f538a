import { Tag } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { useOnline } from './useLive';

export function OnlineBadge() {
  const { t } = useTranslation();
  const online = useOnline();
  return (
    <Tag color={online ? 'success' : 'default'} data-testid="online-badge" data-online={online ? '1' : '0'}>
      {online ? t('net.online') : t('net.offline')}
    </Tag>
  );
}
