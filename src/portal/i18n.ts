// The portal's message catalogues: one flat JSON file per language in portal/i18n (`en.json`,
// `de.json`), read once at start. Adding a language is adding a file. English is the reference:
// a key missing elsewhere falls back to it, and a test checks that every catalogue is complete.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PORTAL_DIR } from '../http/web-page.ts';

export type Catalogue = Readonly<Record<string, string>>;
export type Translate = (key: string, params?: Record<string, string | number>) => string;

export const I18N_DIR = path.join(PORTAL_DIR, 'i18n');
export const REFERENCE_LANGUAGE = 'en';

export function loadCatalogues(dir = I18N_DIR): ReadonlyMap<string, Catalogue> {
  const catalogues = new Map<string, Record<string, string>>();
  for (const file of readdirSync(dir).sort()) {
    const match = /^([a-z]{2})\.json$/.exec(file);
    if (!match?.[1]) continue;
    const parsed: unknown = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${file}: a catalogue is one JSON object of strings`);
    for (const [key, value] of Object.entries(parsed))
      if (typeof value !== 'string') throw new Error(`${file}: '${key}' is not a string`);
    catalogues.set(match[1], parsed as Record<string, string>);
  }
  if (!catalogues.has(REFERENCE_LANGUAGE)) throw new Error(`${dir}: ${REFERENCE_LANGUAGE}.json is missing`);
  return catalogues;
}

/** The languages of an Accept-Language header, best first (`de-CH;q=0.9` counts as `de`). */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{1,3})?)\s*$/.exec(p)?.[1]).find(Boolean);
      return {
        lang: tag.trim().toLowerCase().split('-')[0] ?? '',
        q: q === undefined ? 1 : Number(q),
        index,
      };
    })
    .filter((entry) => /^[a-z]{2}$/.test(entry.lang) && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((entry) => entry.lang);
}

export function createI18n(catalogues: ReadonlyMap<string, Catalogue>, defaultLanguage: string) {
  const reference = catalogues.get(REFERENCE_LANGUAGE) ?? {};
  const fallback = catalogues.has(defaultLanguage) ? defaultLanguage : REFERENCE_LANGUAGE;

  return {
    languages: [...catalogues.keys()],

    /** The user's own choice, then the browser's, then the configured default. */
    choose(userLanguage: string | null | undefined, acceptLanguage: string | undefined): string {
      if (userLanguage && catalogues.has(userLanguage)) return userLanguage;
      return acceptedLanguages(acceptLanguage).find((lang) => catalogues.has(lang)) ?? fallback;
    },

    translator(lang: string): Translate {
      const catalogue = catalogues.get(lang) ?? reference;
      return (key, params) => {
        const text = catalogue[key] ?? reference[key] ?? key;
        if (!params) return text;
        return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
          Object.hasOwn(params, name) ? String(params[name]) : whole,
        );
      };
    },

    /** A language's own name, for the language picker ("Deutsch"). */
    nameOf(lang: string): string {
      return catalogues.get(lang)?.['language.name'] ?? lang;
    },
  };
}

export type I18n = ReturnType<typeof createI18n>;
