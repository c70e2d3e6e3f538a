import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import zhCN from './zh-CN.json';

type Messages = { [key: string]: string | Messages };

/** Parts of the translation kept in their own files (i18n/parts/<area>.<lang>.json), merged in. */
const parts = import.meta.glob<Messages>('./parts/*.json', { eager: true, import: 'default' });

function merge(into: Messages, from: Messages): Messages {
  for (const [k, v] of Object.entries(from)) {
    const here = into[k];
    into[k] = typeof v === 'object' && typeof here === 'object' ? merge({ ...here }, v) : v;
  }
  return into;
}

function withParts(base: Messages, lang: string): Messages {
  let out: Messages = { ...base };
  for (const [file, part] of Object.entries(parts)) {
    if (file.endsWith(`.${lang}.json`)) out = merge(out, part);
  }
  return out;
}

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
  dayjs.locale(lang === 'zh-CN' ? 'zh-cn' : 'en');
}

const initial = storedLang();
applyLang(initial);

void i18n.use(initReactI18next).init({
  resources: {
    'zh-CN': { translation: withParts(zhCN, 'zh-CN') },
    en: { translation: withParts(en, 'en') },
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
