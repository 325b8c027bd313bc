// The LDAP / Active Directory implementation of the Directory port: user search with the service account,
// password check by binding as the user's DN, groups (memberOf or group search), and user listing for import.
import type { Filter, SearchOptions } from 'ldapts';
import type { LdapConfig } from '../config/schema.ts';
import { MfaError } from '../core/errors.ts';
import type { Clock, Directory, DirectoryUser, DirectoryUserQuery } from '../core/ports.ts';
import {
  createSessionOpener,
  describeError,
  isLdapResult,
  type LdapLogger,
  ServiceConnection,
  type SessionOpener,
  unavailable,
} from './ldap-connection.ts';
import { distinct, EntryReader, firstRdnValue, readUniqueId } from './ldap-entry.ts';
import { allOf, groupsOfMember, parseTrustedFilter, userByName } from './ldap-filter.ts';

export interface LdapDirectoryDeps {
  clock: Clock;
  logger?: LdapLogger;
}

/** Two are enough to tell "exactly one" from "ambiguous" for a username search. */
const USER_SIZE_LIMIT = 2;
const PAGE_SIZE = 500;
/** Group searches run in parallel on the shared connection while listing users in `search` mode. */
const GROUP_LOOKUP_CONCURRENCY = 8;
/** Longer than any real logon name (AD's userPrincipalName allows 1024): refused before any I/O. */
const MAX_USERNAME_LENGTH = 1024;

/** A user with the DNs of their groups, which listUsers' group condition matches against as well. */
interface ResolvedUser {
  user: DirectoryUser;
  groupDns: string[];
}

interface FoundEntry {
  entry: EntryReader;
  /** The server that found the entry: the user's bind goes there first, so replication lag cannot bite. */
  url: string;
}

/** What a username search found: the entry when exactly one matched, and how many did. */
interface Lookup {
  found: FoundEntry | undefined;
  matches: number;
}

/**
 * Creates the adapter. Nothing connects until first use; the CA file (if any) is read here, once.
 *
 * The user's unique id comes from `attributes.uniqueId`: a 16-byte objectGUID becomes the standard GUID
 * string, other attributes (entryUUID) their text. An entry without it falls back to its DN, which is
 * stable only until the user is renamed or moved.
 */
export function createLdapDirectory(config: LdapConfig, deps: LdapDirectoryDeps): Directory {
  const openSession = createSessionOpener(config, deps);
  const service = new ServiceConnection(config, openSession, deps.logger);
  const userFilter = parseTrustedFilter(config.userFilter, configInvalid('directory.ldap.userFilter'));
  if (config.groups.mode === 'search') checkGroupFilter(config.groups.filter);
  const searchAttributes = requestedAttributes(config);
  const binaryAttributes = spellingsOf(config.attributes.uniqueId);

  const search = async (baseDn: string, options: SearchOptions): Promise<FoundEntry[]> =>
    service.run(async (session) => {
      try {
        const result = await session.client.search(baseDn, options);
        return result.searchEntries.map((entry) => ({ entry: new EntryReader(entry), url: session.url }));
      } catch (error) {
        if (!isLdapResult(error)) throw error;
        const detail = `${session.url}: search under ${baseDn} failed: ${describeError(error)}`;
        throw new MfaError('directory.error', { detail, cause: error });
      }
    });

  const searchUsers = (baseDn: string, filter: Filter, limits: Partial<SearchOptions>) =>
    search(baseDn, {
      scope: 'sub',
      filter,
      attributes: searchAttributes,
      explicitBufferAttributes: binaryAttributes,
      ...limits,
    });

  /** The entry whose username attribute equals `username`; several matches count as none. */
  const lookUp = async (username: string): Promise<Lookup> => {
    const filter = userByName(userFilter, config.usernameAttribute, username);
    const found = await searchUsers(config.baseDn, filter, { sizeLimit: USER_SIZE_LIMIT });
    if (found.length > 1) {
      deps.logger?.warn({ username, matches: found.length }, 'LDAP username is ambiguous; refused');
      return { found: undefined, matches: found.length };
    }
    return { found: found[0], matches: found.length };
  };

  const groupsOf = async (entry: EntryReader): Promise<Array<{ name: string; dn: string }>> => {
    if (config.groups.mode === 'memberOf') {
      return distinct(entry.texts(config.attributes.memberOf)).map((dn) => ({ name: firstRdnValue(dn), dn }));
    }
    const groups = await search(config.groups.baseDn ?? config.baseDn, {
      scope: 'sub',
      filter: groupsOfMember(config.groups.filter, entry.dn),
      attributes: [config.groups.nameAttribute],
      paged: { pageSize: PAGE_SIZE },
    });
    return groups.map(({ entry: group }) => ({
      name: group.text(config.groups.nameAttribute) ?? firstRdnValue(group.dn),
      dn: group.dn,
    }));
  };

  const resolve = async (entry: EntryReader, typedName?: string): Promise<ResolvedUser | undefined> => {
    const username = entry.text(config.usernameAttribute) ?? typedName;
    if (username === undefined) return undefined;
    const groups = await groupsOf(entry);
    const user: DirectoryUser = {
      username,
      uniqueId: readUniqueId(entry, config.attributes.uniqueId) ?? entry.dn,
      dn: entry.dn,
      phones: distinct(config.attributes.phones.flatMap((name) => entry.texts(name))),
      groups: distinct(groups.map((group) => group.name)),
    };
    const displayName = entry.text(config.attributes.displayName);
    const email = entry.text(config.attributes.email);
    if (displayName !== undefined) user.displayName = displayName;
    if (email !== undefined) user.email = email;
    return { user, groupDns: groups.map((group) => group.dn) };
  };

  return {
    async authenticate(username, password) {
      const name = acceptableUsername(username);
      if (name === undefined) throw invalidCredentials('the username is empty or malformed');
      // An empty password would be an unauthenticated bind, which many directories accept.
      if (password.length === 0) throw invalidCredentials('empty password');
      const { found, matches } = await lookUp(name);
      if (matches > 1) throw invalidCredentials('ambiguous username: several entries match');
      if (!found) throw invalidCredentials('unknown user');
      await verifyPassword(openSession, config, found, password);
      const resolved = await resolve(found.entry, name);
      if (!resolved) throw invalidCredentials('unknown user');
      return resolved.user;
    },

    async findUser(username) {
      const name = acceptableUsername(username);
      if (name === undefined) return undefined;
      const { found } = await lookUp(name);
      return found && (await resolve(found.entry, name))?.user;
    },

    /** `query.filter` is LDAP filter syntax from an administrator (import options), not user input. */
    async listUsers(query: DirectoryUserQuery = {}) {
      const baseDn = query.baseDn ?? config.import.baseDn ?? config.baseDn;
      const extra = parseTrustedFilter(query.filter, inputInvalid('filter'));
      const found = await searchUsers(baseDn, allOf(userFilter, extra), { paged: { pageSize: PAGE_SIZE } });
      const resolved = await mapLimit(found, GROUP_LOOKUP_CONCURRENCY, ({ entry }) => resolve(entry));
      const group = query.group;
      return resolved
        .filter((item): item is ResolvedUser => item !== undefined)
        .filter((item) => group === undefined || isMemberOf(item, group))
        .map((item) => item.user);
    },

    async ping() {
      await search(config.baseDn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] });
    },

    async close() {
      await service.close();
    },
  };
}

/**
 * Binds as the user's DN (taken from the directory) on a short-lived connection of its own, so the
 * service connection keeps its identity. Any refusal is a failed sign-in; the server's words go to
 * the operator detail only.
 */
async function verifyPassword(open: SessionOpener, config: LdapConfig, found: FoundEntry, password: string) {
  const servers = distinct([found.url, ...config.servers]);
  const session = await open(servers);
  try {
    await session.client.bind(found.entry.dn, password);
  } catch (error) {
    if (!isLdapResult(error)) throw unavailable(session.url, error);
    const detail = error.code === 49 ? 'wrong password' : `bind refused: ${describeError(error)}`;
    throw invalidCredentials(detail, error);
  } finally {
    await session.close();
  }
}

/** The trimmed username, or undefined when it is empty, too long or holds control characters (NUL ...). */
function acceptableUsername(username: string): string | undefined {
  const trimmed = username.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_USERNAME_LENGTH) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return undefined;
  return trimmed;
}

/** Fails at start-up, not at the first sign-in, when the configured group filter cannot be parsed. */
function checkGroupFilter(template: string): void {
  groupsOfMember(template, 'cn=check');
}

function isMemberOf({ user, groupDns }: ResolvedUser, group: string): boolean {
  const wanted = group.trim().toLowerCase();
  if (user.groups.some((name) => name.toLowerCase() === wanted)) return true;
  return groupDns.some((dn) => normalizeDn(dn) === normalizeDn(wanted));
}

/** Case and the spaces around separators do not matter when comparing DNs. */
function normalizeDn(dn: string): string {
  return dn
    .trim()
    .toLowerCase()
    .replace(/\s*([,=+])\s*/g, '$1');
}

function requestedAttributes(config: LdapConfig): string[] {
  const { attributes } = config;
  const memberOf = config.groups.mode === 'memberOf' ? [attributes.memberOf] : [];
  return distinct([
    config.usernameAttribute,
    attributes.uniqueId,
    attributes.displayName,
    attributes.email,
    ...attributes.phones,
    ...memberOf,
  ]);
}

/**
 * ldapts returns an attribute as bytes only when the server's spelling of its name is listed exactly,
 * so a GUID whose bytes happen to be valid UTF-8 is not decoded as text whatever the server's case.
 */
function spellingsOf(attribute: string): string[] {
  const known = ['objectGUID', 'entryUUID', 'mS-DS-ConsistencyGuid'];
  const same = known.filter((name) => name.toLowerCase() === attribute.toLowerCase());
  return distinct([attribute, attribute.toLowerCase(), ...same]);
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function invalidCredentials(detail: string, cause?: unknown): MfaError {
  return new MfaError('auth.invalid_credentials', { detail, cause });
}

function configInvalid(field: string) {
  return (detail: string) => new MfaError('config.invalid', { detail, field });
}

function inputInvalid(field: string) {
  return (detail: string) => new MfaError('input.invalid', { detail, field });
}
