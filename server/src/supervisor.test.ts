import { describe, expect, it } from 'vitest';
import { createRestartPolicy, RESTART_EXIT_CODE, RESTART_WINDOW_MS, type ServerExit } from './supervisor.ts';

/** A policy on a clock the test moves by hand. */
function policyAt(maxRestartsPerMinute: number) {
  let t = 1_000_000;
  const policy = createRestartPolicy({ maxRestartsPerMinute, now: () => t });
  return {
    policy,
    advance(ms: number) {
      t += ms;
    },
  };
}

const crashed = (over: Partial<ServerExit> = {}): ServerExit => ({
  code: 1,
  signal: null,
  listened: true,
  stopping: false,
  ...over,
});

describe('createRestartPolicy', () => {
  it('restarts a server that crashed after listening, saying how it ended', () => {
    const { policy } = policyAt(5);
    expect(policy.decide(crashed({ pid: 42, code: 1 }))).toEqual({
      action: 'restart',
      reason: 'the server (pid 42) exited with code 1; restart 1 of at most 5 a minute',
    });
    expect(policy.decide(crashed({ pid: 43, code: null, signal: 'SIGKILL' }))).toEqual({
      action: 'restart',
      reason: 'the server (pid 43) was killed by SIGKILL; restart 2 of at most 5 a minute',
    });
    // Any other signal it did not send (a segfault, the OOM killer's SIGKILL) is a crash too.
    expect(policy.decide(crashed({ code: null, signal: 'SIGSEGV' })).action).toBe('restart');
  });

  it('gives up with code 1 past the limit within a minute, and counts again once the minute has passed', () => {
    const { policy, advance } = policyAt(2);
    expect(policy.decide(crashed()).action).toBe('restart');
    advance(10_000);
    expect(policy.decide(crashed()).action).toBe('restart');
    advance(10_000);
    expect(policy.decide(crashed({ pid: 7, code: null, signal: 'SIGKILL' }))).toEqual({
      action: 'exit',
      code: 1,
      reason:
        'the server (pid 7) was killed by SIGKILL, after 2 restarts within a minute (SUPERVISOR_MAX_RESTARTS_PER_MINUTE=2); giving up',
    });

    const later = policyAt(2);
    later.policy.decide(crashed());
    later.advance(RESTART_WINDOW_MS - 1);
    later.policy.decide(crashed());
    // The first restart is now a minute old: one of two in the window, so one more is allowed.
    later.advance(1);
    expect(later.policy.decide(crashed())).toMatchObject({ action: 'restart', reason: /restart 2 of/ });
    expect(later.policy.decide(crashed()).action).toBe('exit');
  });

  it('with a limit of 0, gives up at the first crash', () => {
    expect(policyAt(0).policy.decide(crashed())).toMatchObject({ action: 'exit', code: 1 });
  });

  it('always restarts for the restart-server fault, without counting it', () => {
    const { policy } = policyAt(1);
    for (let i = 0; i < 10; i++)
      expect(policy.decide(crashed({ code: RESTART_EXIT_CODE }))).toEqual({
        action: 'restart',
        reason: 'restart-server fault',
      });
    expect(policy.decide(crashed()).action).toBe('restart'); // the one crash allowed is still there
  });

  it('ends as the server did on a clean exit, or while stopping', () => {
    const { policy } = policyAt(5);
    expect(policy.decide(crashed({ code: 0 }))).toEqual({ action: 'exit', code: 0 });
    expect(policy.decide(crashed({ code: 0, stopping: true }))).toEqual({ action: 'exit', code: 0 });
    expect(policy.decide(crashed({ code: 1, stopping: true }))).toEqual({ action: 'exit', code: 1 });
    expect(policy.decide(crashed({ code: null, signal: 'SIGTERM', stopping: true }))).toEqual({
      action: 'die',
      signal: 'SIGTERM',
    });
    // Asked to stop while a restart was under way: that restart was the last of it.
    expect(policy.decide(crashed({ code: RESTART_EXIT_CODE, stopping: true }))).toEqual({
      action: 'exit',
      code: 0,
    });
  });

  it('does not restart a server that ended before it listened: the same start would fail the same way', () => {
    const { policy } = policyAt(5);
    expect(policy.decide(crashed({ code: 2, listened: false }))).toEqual({
      action: 'exit',
      code: 2,
      reason: 'the server exited with code 2 before it listened; not restarting it',
    });
    expect(policy.decide(crashed({ code: null, signal: 'SIGKILL', listened: false }))).toMatchObject({
      action: 'die',
      signal: 'SIGKILL',
    });
  });
});
