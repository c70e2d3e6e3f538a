import { GlobalOutlined } from '@ant-design/icons';
import { Segmented } from 'antd';
import { useTranslation } from 'react-i18next';
import { currentLang, type Lang, setLang } from '../i18n';

/** 中文 / English; the choice is kept in the `lang` cookie the server also reads. */
export function LangSwitch() {
  const { i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : currentLang();
  return (
    <span data-testid="lang-switch" style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
      <GlobalOutlined aria-hidden />
      <Segmented<Lang>
        size="small"
        value={lang}
        onChange={(value) => void setLang(value)}
        options={[
          { label: '中文', value: 'zh-CN' },
          { label: 'English', value: 'en' },
        ]}
      />
    </span>
  );
}
