// The portal's message catalogues: every language is complete against English, placeholders match,
// every key the templates use exists, and the language is chosen by user setting, then browser.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { acceptedLanguages, createI18n, I18N_DIR, loadCatalogues } from '../../src/portal/i18n.ts';
import { TEMPLATES_DIR } from '../../src/portal/pages.ts';

const catalogues = loadCatalogues();
const english = catalogues.get('en') ?? {};
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('catalogues', () => {
  test('English and German are there, and adding a language is adding a file', () => {
    assert.ok(catalogues.has('en'));
    assert.ok(catalogues.has('de'));
    const files = readdirSync(I18N_DIR).filter((f) => /^[a-z]{2}\.json$/.test(f));
    assert.deepEqual([...catalogues.keys()].sort(), files.map((f) => f.slice(0, 2)).sort());
  });

  for (const [lang, catalogue] of catalogues) {
    test(`${lang} has every English key, no extra key, and the same placeholders`, () => {
      assert.deepEqual(Object.keys(catalogue).sort(), Object.keys(english).sort());
      for (const [key, text] of Object.entries(english))
        assert.deepEqual(placeholders(catalogue[key] ?? ''), placeholders(text), `${lang}: ${key}`);
    });
  }

  test('every literal key the templates and routes use is in the English catalogue', () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.(eta|ts)$/.test(entry.name)) sources.push(readFileSync(file, 'utf8'));
      }
    };
    walk(TEMPLATES_DIR);
    walk(path.resolve(import.meta.dirname, '../../src/portal'));
    const missing = new Set<string>();
    for (const source of sources)
      for (const [, key] of source.matchAll(/\bt\('([A-Za-z0-9_.]+[A-Za-z0-9_])'/g))
        if (key && !(key in english)) missing.add(key);
    assert.deepEqual([...missing], []);
  });
});

describe('choosing the language', () => {
  const i18n = createI18n(catalogues, 'en');

  test("the user's own setting wins over the browser", () => {
    assert.equal(i18n.choose('de', 'en-US,en;q=0.9'), 'de');
  });

  test('then Accept-Language, by quality, region ignored', () => {
    assert.equal(i18n.choose(null, 'fr-FR,de-CH;q=0.8,en;q=0.5'), 'de');
    assert.equal(i18n.choose(null, 'en;q=0.2, de;q=0.9'), 'de');
    assert.equal(i18n.choose(undefined, 'fr, it'), 'en');
  });

  test('an unknown user setting or a malformed header falls back to the default', () => {
    assert.equal(i18n.choose('xx', '%%%;q=abc'), 'en');
    assert.deepEqual(acceptedLanguages('de;q=0, en'), ['en']);
  });

  test('placeholders are filled and a missing key shows the key', () => {
    const t = i18n.translator('de');
    assert.equal(t('wizard.step', { step: 2, total: 4 }), 'Schritt 2 von 4');
    assert.equal(t('no.such.key'), 'no.such.key');
  });
});
