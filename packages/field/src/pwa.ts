import { registerSW } from 'virtual:pwa-register';
import { Toast } from 'antd-mobile';
import i18n from './i18n';

/**
 * The service worker precaches the app shell, so the app opens with no network. A new version
 * activates on its own (registerType autoUpdate); the page then loads it at the next change of
 * screen rather than at once, so an index being typed is never lost to an update.
 */
let updateWaiting = false;

export function updatePending(): boolean {
  return updateWaiting;
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  registerSW({
    immediate: true,
    onNeedReload: () => {
      updateWaiting = true;
    },
    onOfflineReady: () => {
      Toast.show({ content: i18n.t('app.offlineReady') });
    },
  });
}

/** Asks the browser not to evict the day's data (IndexedDB) when the phone runs short of space. */
export function keepDataOnDevice(): void {
  void navigator.storage?.persist?.().catch(() => undefined);
}
