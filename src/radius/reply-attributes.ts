// The attributes an Access-Accept carries (Class, Filter-Id, Session-Timeout, vendor attributes),
// chosen by the user's directory groups. Encoded once at start-up; the config check has already
// refused anything that does not encode.
import type { RadiusClientConfig } from '../config/schema.ts';
import { encodeValue, findAttribute, toWireAttribute } from './dictionary.ts';
import type { Attribute } from './packet.ts';

interface Rule {
  attribute: Attribute;
  /** Lower-cased group names; empty means everyone. */
  groups: ReadonlySet<string>;
}

export function compileReplyAttributes(config: RadiusClientConfig['replyAttributes']) {
  const rules: Rule[] = config.map((entry) => {
    const def = findAttribute(entry.attribute);
    if (!def) throw new Error(`unknown RADIUS attribute '${entry.attribute}'`);
    const value = encodeValue(def, entry.value);
    return {
      attribute: toWireAttribute(def, value),
      groups: new Set(entry.groups.map((g) => g.toLowerCase())),
    };
  });
  return (groups: readonly string[]): Attribute[] => {
    const member = new Set(groups.map((g) => g.toLowerCase()));
    return rules
      .filter((rule) => rule.groups.size === 0 || [...rule.groups].some((g) => member.has(g)))
      .map((rule) => rule.attribute);
  };
}
