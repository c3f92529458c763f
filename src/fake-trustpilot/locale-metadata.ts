/**
 * The body of `GET /v1/resources/metadata/locales`. Field names follow Trustpilot's
 * published example (`locale`, `language`, `region`, `nativeName`, `translatedName`);
 * the many site URLs of the real answer are left out. Built once: it never changes.
 */
import { TRUSTPILOT_LOCALES } from '../domain/locales.ts';

export interface LocaleMetadata {
  locale: string;
  language: string;
  region: string;
  nativeName: string;
  translatedName: string;
}

function describe(locale: string): LocaleMetadata {
  const [language = locale, region = ''] = locale.split('-');
  const nativeName = new Intl.DisplayNames([language], { type: 'language' }).of(language) ?? language;
  const translatedName = new Intl.DisplayNames(['en'], { type: 'language' }).of(language) ?? language;
  return { locale, language, region, nativeName, translatedName };
}

export const LOCALES_RESPONSE_BODY: { locales: LocaleMetadata[] } = { locales: TRUSTPILOT_LOCALES.map(describe) };


