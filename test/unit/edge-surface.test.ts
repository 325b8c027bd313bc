import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeEdgeValue, EDGE_METHODS, edgeScopesOf, encodeEdgeValue } from '../../src/core/edge-surface.ts';

const roundTrip = (value: unknown) => decodeEdgeValue(JSON.parse(JSON.stringify(encodeEdgeValue(value))));

describe('the edge surface', () => {
  test('an absent argument stays absent over the wire, instead of becoming null', () => {
    const args = roundTrip(['alice', undefined, { need: 2 }]) as unknown[];
    assert.equal(args.length, 3);
    assert.equal(args[1], undefined);
    assert.deepEqual(args[2], { need: 2 });
  });

  test('bytes arrive as bytes; nested values and null are kept', () => {
    const value = roundTrip({
      seed: new Uint8Array([0, 1, 254, 255]),
      user: { phones: ['+1555'], email: null },
    });
    assert.deepEqual(value, {
      seed: new Uint8Array([0, 1, 254, 255]),
      user: { phones: ['+1555'], email: null },
    });
  });

  test('administration through an edge needs admin as well; everything else needs edge only', () => {
    assert.deepEqual(edgeScopesOf('userAdmin.disable'), ['edge', 'admin']);
    assert.deepEqual(edgeScopesOf('auditQuery'), ['edge', 'admin']);
    assert.deepEqual(edgeScopesOf('authenticator.startLogin'), ['edge']);
  });

  test('the surface holds none of the calls an edge has no business with', () => {
    for (const method of EDGE_METHODS)
      assert.doesNotMatch(
        method,
        /^(accounts|importUsers|regulator|hasher|verifyTotp|pushHub)\b|\.(delete|verifyCode)/,
      );
  });
});
