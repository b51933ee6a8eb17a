import { describe, expect, it } from 'vitest';
import { answersOf, DEFAULT_ANSWERS_FORM } from './answers-form.ts';

describe('answersOf: the questionnaire as typed, to the shared answers', () => {
  it('turns seconds into ms and keeps the choices', () => {
    const parsed = answersOf({
      ...DEFAULT_ANSWERS_FORM,
      typicalS: '0.5',
      worstS: '2,5',
      feedbackWithinS: ' 1 ',
    });
    expect(parsed).toEqual({
      ok: true,
      answers: expect.objectContaining({ typicalMs: 500, worstMs: 2_500, feedbackWithinMs: 1_000 }),
    });
  });

  it('leaves the feedback bound out when no person waits, whatever its field holds', () => {
    const parsed = answersOf({ ...DEFAULT_ANSWERS_FORM, nobodyWaits: true, feedbackWithinS: 'soon' });
    expect(parsed.ok && parsed.answers.feedbackWithinMs).toBe(undefined);
    expect(parsed.ok).toBe(true);
  });

  it('says beside each field what is not a number', () => {
    const parsed = answersOf({ ...DEFAULT_ANSWERS_FORM, typicalS: 'a minute', concurrentClients: '2.5' });
    expect(parsed).toEqual({
      ok: false,
      errors: {
        typicalS: 'The typical duration must be a number of seconds, such as 2 or 0.5.',
        concurrentClients: 'Clients at once must be a whole number, such as 200.',
      },
    });
  });

  it('puts the schema’s errors on their fields: a worst case below the typical, no consumer', () => {
    const parsed = answersOf({ ...DEFAULT_ANSWERS_FORM, typicalS: '10', worstS: '5', consumers: [] });
    expect(parsed).toEqual({
      ok: false,
      errors: {
        worstS: 'The worst duration: the worst case cannot be shorter than the typical one.',
        consumers: 'Choose at least one consumer.',
      },
    });
  });
});
