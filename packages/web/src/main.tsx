import { App as AntApp, ConfigProvider, unstableSetRender } from 'antd';
import enUS from 'antd/es/locale/en_US';
import zhCN from 'antd/es/locale/zh_CN';
import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { useTranslation } from 'react-i18next';
import App from './App';
import { useReducedMotion } from './components/useReducedMotion';
import './i18n';
import './styles.css';

// antd 5 renders its pop-ups (message, modal.confirm, wave) with React 18's legacy render by default;
// with React 19 it needs createRoot (what @ant-design/v5-patch-for-react-19 does).
unstableSetRender((node, container) => {
  const host = container as Element & { _meterlineRoot?: Root };
  host._meterlineRoot ??= createRoot(container);
  const root = host._meterlineRoot;
  root.render(node);
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    root.unmount();
  };
});

/**
 * antd's own texts (pagination, pickers, empty states) follow the UI language; its animations are off
 * when the system asks for reduced motion.
 */
function Localised() {
  const { i18n } = useTranslation();
  const reducedMotion = useReducedMotion();
  return (
    <ConfigProvider
      locale={i18n.language === 'en' ? enUS : zhCN}
      theme={{ token: { colorPrimary: '#1677ff', borderRadius: 6, motion: !reducedMotion } }}
      wave={{ disabled: reducedMotion }}
    >
      <AntApp>
        <App />
      </AntApp>
    </ConfigProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Localised />
  </StrictMode>,
);
