import { describe, expect, it } from 'vitest';
import { createRetryBudget } from './retry-budget.ts';

const POLICY = { baseMs: 100, capMs: 1_000 };

describe('createRetryBudget', () => {
  it('waits the backoff of the failures in a row, counting the first retry as attempt 0', () => {
    const budget = createRetryBudget(5, () => 0, POLICY);
    expect([budget.fail(), budget.fail(), budget.fail()]).toEqual([50, 100, 200]);
    expect(budget.failures).toBe(3);
  });

  it('waits the longer of the server’s hint and the backoff', () => {
    const budget = createRetryBudget(5, () => 0, POLICY);
    expect(budget.fail(2_000)).toBe(2_000);
    expect(budget.fail(10)).toBe(100);
    expect(budget.fail(undefined)).toBe(200);
  });

  it('retries max failures in a row and gives up on the next, without drawing jitter', () => {
    let draws = 0;
    const budget = createRetryBudget(2, () => {
      draws += 1;
      return 0.5;
    });
    expect(budget.fail()).toBeDefined();
    expect(budget.fail()).toBeDefined();
    expect(budget.fail()).toBeUndefined();
    expect(budget.failures).toBe(3);
    expect(draws).toBe(2);
    expect(budget.fail(5_000)).toBeUndefined();
  });

  it('starts again from the first retry after a success', () => {
    const budget = createRetryBudget(2, () => 0, POLICY);
    budget.fail();
    budget.fail();
    budget.succeed();
    expect(budget.failures).toBe(0);
    expect(budget.fail()).toBe(50);
    expect(budget.fail()).toBe(100);
    expect(budget.fail()).toBeUndefined();
  });
});
