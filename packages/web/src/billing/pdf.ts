import { ApiError } from '../api';
import i18n from '../i18n';

/**
 * Fetches a PDF the API renders (bill notices) and hands it to the browser as a download; an error
 * reply (no bills for that book and period, out of scope) is thrown as an ApiError to show.
 */
export async function downloadPdf(path: string, fileName: string): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/pdf' } });
  if (!res.ok) {
    let error: { code?: string; message?: string } | undefined;
    try {
      error = (await res.json())?.error;
    } catch {
      // Not JSON: a generic message below.
    }
    throw new ApiError(
      res.status,
      error?.code ?? `HTTP_${res.status}`,
      error?.message ?? i18n.t('errors.http', { status: res.status }),
    );
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Opens a PDF the API renders in a new tab (the browser's viewer prints it). */
export function openPdf(path: string): void {
  window.open(path, '_blank', 'noopener');
}
