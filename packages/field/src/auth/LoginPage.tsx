import { Button, Form, Input } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { LangSwitch } from '../components/LangSwitch';
import { useOnline } from '../components/useLive';
import { useAuth } from './AuthContext';

export default function LoginPage() {
  const { t } = useTranslation();
  const { login, expired } = useAuth();
  const online = useOnline();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (values: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await login(values.username.trim(), values.password);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <div className="login-lang">
        <LangSwitch />
      </div>
      <div className="login-head">
        <img src={`${import.meta.env.BASE_URL}icon.svg`} alt="" className="login-logo" />
        <h1>{t('app.name')}</h1>
        <div className="muted">{t('app.tagline')}</div>
      </div>
      {expired && <div className="warn-box">{t('login.expired')}</div>}
      {!online && <div className="warn-box">{t('login.offline')}</div>}
      {error && (
        <div className="error-box" data-testid="login-error">
          {error}
        </div>
      )}
      <Form
        layout="vertical"
        onFinish={submit}
        footer={
          <Button block type="submit" color="primary" size="large" loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        }
      >
        <Form.Item
          name="username"
          label={t('login.username')}
          rules={[{ required: true, message: t('login.usernameRequired') }]}
        >
          <Input className="login-input" autoComplete="username" clearable data-testid="login-username" />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('login.password')}
          rules={[{ required: true, message: t('login.passwordRequired') }]}
        >
          <Input
            className="login-input"
            type="password"
            autoComplete="current-password"
            data-testid="login-password"
          />
        </Form.Item>
      </Form>
    </div>
  );
}
