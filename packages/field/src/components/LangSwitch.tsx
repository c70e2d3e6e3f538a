import { Button } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { currentLang, setLang } from '../i18n';

/** 中文 ⇄ English. */
export function LangSwitch() {
  const { t } = useTranslation();
  return (
    <Button
      size="small"
      fill="outline"
      data-testid="lang-switch"
      onClick={() => void setLang(currentLang() === 'en' ? 'zh-CN' : 'en')}
    >
      {t('lang.other')}
    </Button>
  );
}
