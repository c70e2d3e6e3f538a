import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import ordersEn from '../orders/i18n.en.json';
import ordersZhCN from '../orders/i18n.zh-CN.json';
import en from './en.json';
import zhCN from './zh-CN.json';

export type Lang = 'zh-CN' | 'en';
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

/** The server reads this cookie to word its error messages in the same language as the UI. */
const LANG_COOKIE = 'lang';
const ONE_YEAR_S = 365 * 24 * 3600;

function readCookie(name: string): string | undefined {
  return document.cookie
    .split('; ')
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

function storedLang(): Lang {
  const fromCookie = readCookie(LANG_COOKIE);
  if (fromCookie && (LANGS as readonly string[]).includes(fromCookie)) return fromCookie as Lang;
  return 'zh-CN';
}

function applyLang(lang: Lang): void {
  // biome-ignore lint/suspicious/noDocumentCookie: the server reads this cookie; CookieStore is not in every browser.
  document.cookie = `${LANG_COOKIE}=${lang}; path=/; max-age=${ONE_YEAR_S}; SameSite=Lax`;
  document.documentElement.lang = lang;
}

const initial = storedLang();
applyLang(initial);

void i18n.use(initReactI18next).init({
  // The work orders' strings (orders/i18n.*.json) under `orders.`.
  resources: {
    'zh-CN': { translation: { ...zhCN, orders: ordersZhCN } },
    en: { translation: { ...en, orders: ordersEn } },
  },
  lng: initial,
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
});

export function currentLang(): Lang {
  return i18n.language === 'en' ? 'en' : 'zh-CN';
}

export async function setLang(lang: Lang): Promise<void> {
  applyLang(lang);
  await i18n.changeLanguage(lang);
}

export default i18n;
