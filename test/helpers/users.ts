// Test data and assertions shared by the core and store tests.
import assert from 'node:assert/strict';
import { isMfaError, type MfaError } from '../../src/core/errors.ts';
import type { NewUser } from '../../src/core/ports.ts';

/** A plain enabled user, local to the store, with whatever the test overrides. */
export function newUser(username: string, extra: Partial<NewUser> = {}): NewUser {
  return {
    username,
    uniqueId: null,
    displayName: null,
    email: null,
    phones: [],
    defaultMethod: null,
    language: null,
    status: 'enabled',
    pinHash: null,
    fromDirectory: false,
    ...extra,
  };
}

/** The catalogue error a promise rejects with; fails the test if it resolves or throws anything else. */
export async function failure(promise: Promise<unknown>): Promise<MfaError> {
  try {
    await promise;
  } catch (error) {
    if (isMfaError(error)) return error;
    throw error;
  }
  assert.fail('expected an MfaError');
}
