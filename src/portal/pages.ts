// The portal's server-rendered pages: every template under portal/enroll (sub-folders included) is
// compiled once at start and rendered by name (`login`, `admin/user`) inside portal/enroll/layout.eta.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Eta } from 'eta/core';
import { PORTAL_DIR } from '../http/web-page.ts';

export const TEMPLATES_DIR = path.join(PORTAL_DIR, 'enroll');

function templateFiles(dir: string, prefix = ''): Array<{ name: string; file: string }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return templateFiles(file, `${prefix}${entry.name}/`);
    if (!entry.name.endsWith('.eta')) return [];
    return [{ name: `${prefix}${entry.name.slice(0, -'.eta'.length)}`, file }];
  });
}

export interface PortalPages {
  names: readonly string[];
  render(name: string, data: Record<string, unknown>): string;
}

export function createPortalPages(dir = TEMPLATES_DIR): PortalPages {
  // autoEscape: `<%= %>` escapes & < > " '; raw `<%~ %>` is used only for the layout's body and
  // for the QR code's SVG, which the server generates from a URI it built.
  const eta = new Eta({ autoEscape: true, cache: true, useWith: false, varName: 'it' });
  const files = templateFiles(dir);
  for (const { name, file } of files) eta.loadTemplate(`@${name}`, readFileSync(file, 'utf8'));
  const names = Object.freeze(files.map((f) => f.name).filter((n) => n !== 'layout'));
  return {
    names,
    render(name, data) {
      if (!names.includes(name)) throw new Error(`no portal page '${name}'`);
      return eta.render(`@${name}`, data);
    },
  };
}
