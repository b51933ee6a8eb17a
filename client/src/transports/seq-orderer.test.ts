import { describe, expect, it } from 'vitest';
import { progress, queued, started } from '../testing/fixtures.ts';
import { createSeqOrderer } from './seq-orderer.ts';

const seqs = (events: Array<{ seq: number }>) => events.map((e) => e.seq);

describe('createSeqOrderer', () => {
  it('releases events that arrive in order at once', () => {
    const orderer = createSeqOrderer();
    expect(seqs(orderer.push(queued()))).toEqual([1]);
    expect(seqs(orderer.push(started()))).toEqual([2]);
    expect(orderer.lastSeq).toBe(2);
  });

  it('drops a duplicate of an event already released', () => {
    const orderer = createSeqOrderer();
    orderer.push(queued());
    orderer.push(started());
    expect(orderer.push(started())).toEqual([]);
    expect(orderer.push(queued())).toEqual([]);
    expect(orderer.lastSeq).toBe(2);
  });

  it('holds an event ahead of a gap, then releases everything in seq order once the gap fills', () => {
    const orderer = createSeqOrderer();
    orderer.push(queued());
    expect(orderer.push(progress(4, 2, 3))).toEqual([]);
    expect(orderer.push(progress(5, 3, 4))).toEqual([]);
    expect(orderer.pending).toBe(2);
    expect(orderer.lastSeq).toBe(1);
    expect(seqs(orderer.push(progress(3, 1, 2)))).toEqual([]);
    expect(seqs(orderer.push(started()))).toEqual([2, 3, 4, 5]);
    expect(orderer.pending).toBe(0);
    expect(orderer.lastSeq).toBe(5);
  });

  it('drops a duplicate of an event still waiting behind a gap', () => {
    const orderer = createSeqOrderer();
    orderer.push(progress(3, 1, 2));
    orderer.push(progress(3, 1, 2));
    expect(orderer.pending).toBe(1);
    orderer.push(queued());
    expect(seqs(orderer.push(started()))).toEqual([2, 3]);
  });

  it('resumes after a given seq, dropping what came before it', () => {
    const orderer = createSeqOrderer(2);
    expect(orderer.push(started())).toEqual([]);
    expect(seqs(orderer.push(progress(3, 1, 2)))).toEqual([3]);
  });
});
