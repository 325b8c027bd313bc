// LDAP search filters for the directory adapter. Typed input only ever becomes an EqualityFilter value
// (sent as raw bytes in BER, so `*`, `(`, `)`, `\` and NUL are literal) or an escaped filter value.
import { AndFilter, EqualityFilter, Filter, FilterParser } from 'ldapts';
import { MfaError } from '../core/errors.ts';

/**
 * Parses a filter written by an administrator (config or an import query). A missing outer pair of
 * parentheses is added; an empty text means "no condition". Throws `onError`'s error when unparsable.
 */
export function parseTrustedFilter(text: string | undefined, onError: (detail: string) => MfaError) {
  const trimmed = text?.trim() ?? '';
  if (trimmed.length === 0) return undefined;
  const wrapped = trimmed.startsWith('(') ? trimmed : `(${trimmed})`;
  try {
    return FilterParser.parseString(wrapped);
  } catch (error) {
    throw onError(`cannot parse the LDAP filter ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}

export function allOf(...filters: Array<Filter | undefined>): Filter {
  const present = filters.filter((filter): filter is Filter => filter !== undefined);
  const [only] = present;
  if (present.length === 1 && only) return only;
  if (present.length === 0) return FilterParser.parseString('(objectClass=*)');
  return new AndFilter({ filters: present });
}

/** `(&<userFilter>(<attribute>=<value>))`, the value matched literally: wildcards never match. */
export function userByName(userFilter: Filter | undefined, attribute: string, username: string): Filter {
  return allOf(userFilter, new EqualityFilter({ attribute, value: username }));
}

/** The configured group filter with `{dn}` replaced by the user's DN, escaped as a filter value. */
export function groupsOfMember(template: string, userDn: string): Filter {
  const text = template.replaceAll('{dn}', Filter.escape(userDn));
  const filter = parseTrustedFilter(
    text,
    (detail) => new MfaError('config.invalid', { detail, field: 'directory.ldap.groups.filter' }),
  );
  return filter ?? FilterParser.parseString('(objectClass=*)');
}
