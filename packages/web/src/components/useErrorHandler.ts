import { App, type FormInstance } from 'antd';
import { useCallback } from 'react';
import { ApiError, applyFieldErrors } from '../api';

/**
 * Shows an API error where the user will look for it: field errors on the form's fields, anything
 * else (and field errors the form has no field for) as a message at the top of the page.
 */
export function useErrorHandler() {
  const { message } = App.useApp();
  return useCallback(
    (error: unknown, form?: FormInstance, prefix = '') => {
      if ((error as Error)?.name === 'AbortError') return;
      if (!(error instanceof ApiError)) {
        console.error(error);
        void message.error(String((error as Error)?.message ?? error));
        return;
      }
      if (form && error.fields.length) {
        const unmatched = applyFieldErrors(form, error, prefix);
        if (unmatched.length === 0) {
          void message.error(error.message);
          return;
        }
        void message.error(unmatched.map((f) => `${f.path}: ${f.message}`).join('；'));
        return;
      }
      const detail = error.fields.map((f) => `${f.path}: ${f.message}`).join('；');
      void message.error(detail ? `${error.message}（${detail}）` : error.message, 6);
    },
    [message],
  );
}
