/**
 * Locales Trustpilot accepts for invitations (`locale` field): the languages and
 * regions its review sites and invitation templates exist for, as served by
 * `GET /v1/resources/metadata/locales`. Sorted; extend here if Trustpilot adds one.
 */
export const TRUSTPILOT_LOCALES: readonly string[] = Object.freeze([
  'da-DK',
  'de-AT',
  'de-CH',
  'de-DE',
  'en-AU',
  'en-CA',
  'en-GB',
  'en-IE',
  'en-NZ',
  'en-US',
  'es-ES',
  'fi-FI',
  'fr-BE',
  'fr-FR',
  'it-IT',
  'ja-JP',
  'nb-NO',
  'nl-BE',
  'nl-NL',
  'pl-PL',
  'pt-BR',
  'pt-PT',
  'sv-SE',
]);

const supportedLocales = new Set(TRUSTPILOT_LOCALES);
const LANGUAGE_REGION = /^[a-z]{2}-[A-Z]{2}$/;
/** Only text shaped like a locale code is echoed back: a wrongly mapped column could hold an email address. */
const LOOKS_LIKE_LOCALE_CODE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,4})?$/;
/** Norwegian is often written with the macro-language code; Trustpilot uses Bokmål. */
const LANGUAGE_ALIASES: Readonly<Record<string, string>> = { no: 'nb' };

export function isTrustpilotLocale(value: string): boolean {
  return supportedLocales.has(value);
}

/**
 * Explains why `value` is not an acceptable invitation locale, with a suggestion when
 * the intent is clear (`en_us` → `en-US`, `en` → the English locales), or returns
 * undefined when it is acceptable.
 */
export function describeLocaleProblem(value: string): string | undefined {
  if (isTrustpilotLocale(value)) return undefined;
  if (!LOOKS_LIKE_LOCALE_CODE.test(value)) return 'not a locale code (expected language-REGION, e.g. en-US)';

  const [rawLanguage = '', rawRegion] = value.split(/[-_]/);
  const language = LANGUAGE_ALIASES[rawLanguage.toLowerCase()] ?? rawLanguage.toLowerCase();
  if (rawRegion === undefined) {
    const candidates = TRUSTPILOT_LOCALES.filter((locale) => locale.startsWith(`${language}-`));
    const hint = candidates.length > 0 ? ` (did you mean ${candidates.join(', ')}?)` : '';
    return `'${value}' is not language-REGION${hint}`;
  }

  const canonical = `${language}-${rawRegion.toUpperCase()}`;
  if (!LANGUAGE_REGION.test(value)) {
    const hint = isTrustpilotLocale(canonical) ? ` (did you mean ${canonical}?)` : '';
    return `'${value}' is not language-REGION${hint}`;
  }
  if (isTrustpilotLocale(canonical)) return `'${value}' is not supported by Trustpilot (did you mean ${canonical}?)`;
  return `'${value}' is not a Trustpilot-supported locale`;
}
