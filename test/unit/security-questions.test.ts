import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isMfaError } from '../../src/core/errors.ts';
import { checkSecurityAnswers, normaliseAnswer } from '../../src/core/factors/security-questions.ts';

const RULES = { count: 2, questionIds: ['first-pet', 'birth-city', 'first-car'] };

function refusedField(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    assert.ok(isMfaError(error, 'input.invalid'));
    return error.field;
  }
  assert.fail('expected input.invalid');
}

describe('security questions', () => {
  test('answers are normalised: case and spaces do not matter', () => {
    const same = [
      'Fluffy',
      ' fluffy ',
      'FLUFFY',
      'fluffy.',
      'Fluffy!',
      'fluffy?',
      'ｆｌｕｆｆｙ',
      'fluffy . ',
    ];
    for (const typed of same) assert.equal(normaliseAnswer(typed), 'fluffy', typed);
    assert.equal(normaliseAnswer('  New   York\tCity\n'), 'new york city');
    assert.equal(normaliseAnswer('St. Louis'), 'st. louis', 'inner punctuation is kept');
    assert.equal(normaliseAnswer('Ｍüller'), 'müller');
    assert.notEqual(normaliseAnswer('fluffy'), normaliseAnswer('fluffy2'));
  });

  test('a set of answers is checked and returned normalised', () => {
    const answers = checkSecurityAnswers(
      [
        { questionId: 'first-pet', answer: ' Fluffy. ' },
        { questionId: 'first-car', answer: 'Volvo  Amazon' },
      ],
      RULES,
    );
    assert.deepEqual(answers, [
      { questionId: 'first-pet', answer: 'fluffy' },
      { questionId: 'first-car', answer: 'volvo amazon' },
    ]);
  });

  test('exactly count answers are needed', () => {
    assert.equal(
      refusedField(() => checkSecurityAnswers([{ questionId: 'first-pet', answer: 'fluffy' }], RULES)),
      'answers',
    );
    const three = RULES.questionIds.map((questionId) => ({ questionId, answer: 'something' }));
    assert.equal(
      refusedField(() => checkSecurityAnswers(three, RULES)),
      'answers',
    );
  });

  test('each question is a known one, answered once', () => {
    assert.equal(
      refusedField(() =>
        checkSecurityAnswers(
          [
            { questionId: 'first-pet', answer: 'fluffy' },
            { questionId: 'mothers-maiden-name', answer: 'smith' },
          ],
          RULES,
        ),
      ),
      'answers[1].questionId',
    );
    assert.equal(
      refusedField(() =>
        checkSecurityAnswers(
          [
            { questionId: 'first-pet', answer: 'fluffy' },
            { questionId: 'first-pet', answer: 'rex' },
          ],
          RULES,
        ),
      ),
      'answers[1].questionId',
    );
  });

  test('an answer is 2 to 200 characters once normalised', () => {
    const pair = (answer: string) => [
      { questionId: 'first-pet', answer: 'fluffy' },
      { questionId: 'birth-city', answer },
    ];
    assert.equal(
      refusedField(() => checkSecurityAnswers(pair(' a. '), RULES)),
      'answers[1].answer',
    );
    assert.equal(
      refusedField(() => checkSecurityAnswers(pair('x'.repeat(201)), RULES)),
      'answers[1].answer',
    );
    assert.equal(
      refusedField(() => checkSecurityAnswers(pair(' '.repeat(5000)), RULES)),
      'answers[1].answer',
    );
    checkSecurityAnswers(pair('x'.repeat(200)), RULES);
    checkSecurityAnswers(pair('ab'), RULES);
  });
});
