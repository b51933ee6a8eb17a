import { describe, expect, it } from 'vitest';
import { Fault, faultForRun, RaceFaultTemplate } from './faults.ts';
import { RoomFault } from './room.ts';

describe('race fault templates', () => {
  it('are the run-scoped faults without their run id, and become one with faultForRun', () => {
    const templates: RaceFaultTemplate[] = [
      { kind: 'drop-connections', lane: 'sse' },
      { kind: 'receiver', mode: 'unavailable-503', retryAfterS: 1, count: 3 },
      { kind: 'slow-downstream', stallMs: 10_000 },
      { kind: 'buffer-streams', on: true },
    ];
    for (const template of templates) {
      expect(RaceFaultTemplate.parse(template)).toEqual(template);
      expect(Fault.parse(faultForRun(template, 'run-00000001'))).toEqual({
        ...template,
        runId: 'run-00000001',
      });
    }
  });

  it('refuse the process restart (the whole server) and a run id of their own; a room fault is one', () => {
    expect(RaceFaultTemplate.safeParse({ kind: 'restart-server' }).success).toBe(false);
    expect(
      RaceFaultTemplate.safeParse({ kind: 'slow-downstream', stallMs: 5, runId: 'run-00000001' }).success,
    ).toBe(false);
    expect(RoomFault).toBe(RaceFaultTemplate);
  });
});
