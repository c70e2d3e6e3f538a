import { ConfigProvider, unstableSetRender } from 'antd-mobile';
import enUS from 'antd-mobile/es/locales/en-US';
import zhCN from 'antd-mobile/es/locales/zh-CN';
import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { useTranslation } from 'react-i18next';
import App from './App';
import { AuthProvider } from './auth/AuthContext';
import './i18n';
import { keepDataOnDevice, registerServiceWorker } from './pwa';
import { RouterProvider } from './router';
import './styles.css';

// antd-mobile renders Toast and Dialog with React 18's legacy render by default; React 19 needs
// createRoot (https://mobile.ant.design/guide/v5-for-19).
unstableSetRender((node, container) => {
  const host = container as (Element | DocumentFragment) & { _fieldRoot?: Root };
  host._fieldRoot ??= createRoot(container);
  const root = host._fieldRoot;
  root.render(node);
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    root.unmount();
  };
});

registerServiceWorker();
keepDataOnDevice();

/** antd-mobile's own texts follow the UI language. */
function Localised() {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider locale={i18n.language === 'en' ? enUS : zhCN}>
      <AuthProvider>
        <RouterProvider>
          <App />
        </RouterProvider>
      </AuthProvider>
    </ConfigProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Localised />
  </StrictMode>,
);
