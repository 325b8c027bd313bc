import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isMfaError } from '../../src/core/errors.ts';
import { checkPin, weakPinReason } from '../../src/core/factors/pin.ts';

const RULES = { minLength: 4, maxLength: 8 };

function refused(pin: string, rules = RULES): string {
  try {
    checkPin(pin, rules);
  } catch (error) {
    assert.ok(isMfaError(error, 'input.invalid'));
    assert.equal(error.field, 'pin');
    return error.detail ?? '';
  }
  assert.fail(`expected ${JSON.stringify(pin)} to be refused`);
}

describe('PIN rules', () => {
  test('a PIN is digits only', () => {
    for (const pin of ['12a4', ' 5831', '5831 ', '58-31', '５８３１', '٥٨٣١', '']) {
      assert.equal(refused(pin), 'digits only', JSON.stringify(pin));
    }
  });

  test('a PIN is within the configured length', () => {
    assert.match(refused('583'), /4 to 8 digits/);
    assert.match(refused('583194726'), /4 to 8 digits/);
    assert.match(refused('58319', { minLength: 6, maxLength: 10 }), /6 to 10 digits/);
    checkPin('58319472', RULES);
  });

  test('the same digit repeated is refused', () => {
    for (const pin of ['0000', '1111', '99999999']) assert.match(refused(pin), /repeats/, pin);
  });

  test('runs up or down the digits are refused', () => {
    for (const pin of ['1234', '4321', '0123', '9876', '123456', '7890', '3210', '87654321'])
      assert.match(refused(pin), /consecutive/, pin);
  });

  test('repeated pairs and blocks are refused', () => {
    for (const pin of ['1212', '121212', '4545', '123123', '90909090'])
      assert.match(refused(pin), /repeats/, pin);
  });

  test('notorious PINs are refused', () => {
    for (const pin of ['1004', '2000', '1122', '2580', '0852', '5683'])
      assert.match(refused(pin), /common/, pin);
  });

  test('an unremarkable PIN is accepted', () => {
    for (const pin of ['5831', '7294', '190384', '4028', '1235']) {
      checkPin(pin, RULES);
      assert.equal(weakPinReason(pin), undefined, pin);
    }
  });
});
