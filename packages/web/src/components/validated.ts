import type { FormInstance } from 'antd';

/**
 * The form's values, or null when a field is invalid (the form already shows why): a modal's OK
 * handler returns quietly instead of leaving a rejected promise behind.
 */
export async function validated<T>(form: FormInstance<T>): Promise<T | null> {
  try {
    return await form.validateFields();
  } catch {
    return null;
  }
}
