import { describe, expect, it } from 'vitest';
import { type LinkSettings, parseRaceLink, raceLink, raceLinkQuery } from './race-link.ts';
import { DEFAULT_LANE_SETTINGS_INPUT, DEFAULT_SPEC_INPUT } from './settings-slice.ts';

const SETTINGS: LinkSettings = {
  specInput: { durationMs: '4500', steps: '30', failAtStep: '12' },
  selectedLanes: ['short-polling', 'sse', 'hybrid'],
  laneSettingsInput: {
    pollIntervalMs: '750',
    longPollWaitMs: '10000',
    hybridWaitS: '3',
    hybridPushLane: 'long-polling',
  },
  viewMode: 'projector',
};

describe('race link', () => {
  it('writes every setting into the query and reads the same settings back', () => {
    const query = raceLinkQuery(SETTINGS);
    expect(query).toBe(
      '?durationMs=4500&steps=30&failAtStep=12&lanes=short-polling,sse,hybrid&pollIntervalMs=750&longPollWaitMs=10000&hybridWaitS=3&hybridPushLane=long-polling&view=projector',
    );
    expect(parseRaceLink(query)).toEqual({ settings: SETTINGS, notes: [] });
  });

  it('round-trips the defaults too, leaving view=auto out so the screen decides', () => {
    const defaults: LinkSettings = {
      specInput: DEFAULT_SPEC_INPUT,
      selectedLanes: ['request-response', 'websocket'],
      laneSettingsInput: DEFAULT_LANE_SETTINGS_INPUT,
      viewMode: 'auto',
    };
    const query = raceLinkQuery(defaults);
    expect(query).not.toContain('view=');
    expect(query).not.toContain('failAtStep');
    const { settings } = parseRaceLink(query);
    expect(settings).toEqual({
      specInput: defaults.specInput,
      selectedLanes: defaults.selectedLanes,
      laneSettingsInput: defaults.laneSettingsInput,
    });
  });

  it('builds an absolute link on the page’s own address, dropping what the address had', () => {
    expect(raceLink('http://lab.test:3000/?steps=2#x', SETTINGS)).toMatch(
      /^http:\/\/lab\.test:3000\/\?durationMs=4500&/,
    );
  });

  it('falls back to the default for each bad value, with a note, and keeps the good ones', () => {
    const { settings, notes } = parseRaceLink(
      '?durationMs=abc&steps=1e3&lanes=sse,carrier-pigeon&longPollWaitMs=99&hybridPushLane=webhook&view=cinema&pollIntervalMs=250',
    );
    // Both task values were bad: the task stays as the page has it (its defaults).
    expect(settings.specInput).toBeUndefined();
    expect(settings.laneSettingsInput).toEqual({ ...DEFAULT_LANE_SETTINGS_INPUT, pollIntervalMs: '250' });
    expect(settings.selectedLanes).toBeUndefined();
    expect(settings.viewMode).toBeUndefined();
    expect(notes).toEqual([
      'The link\'s durationMs="abc" is not valid here; using 3000 ms.',
      'The link\'s steps="1e3" is not valid here; using 20.',
      'The link\'s lanes="sse,carrier-pigeon" is not valid here; using every lane.',
      'The link\'s longPollWaitMs="99" is not valid here; using 25000 ms.',
      'The link\'s hybridPushLane="webhook" is not valid here; using sse.',
      'The link\'s view="cinema" is not valid here; using the screen’s layout.',
    ]);
  });

  it('refuses a failing step past the last step, and lanes this page does not run', () => {
    expect(parseRaceLink('?steps=5&failAtStep=9')).toEqual({
      settings: { specInput: { durationMs: '3000', steps: '5', failAtStep: '' } },
      notes: ["The link's failAtStep=9 is past its 5 steps; using no failure."],
    });
    expect(parseRaceLink('?lanes=sse', ['websocket']).notes).toEqual([
      'None of the link’s lanes runs on this page; using every lane.',
    ]);
  });

  it('never throws on whatever a query holds', () => {
    for (const search of [
      '?durationMs=%E0%A4%A',
      '?lanes=',
      '?steps=-1&steps=2',
      `?durationMs=${'9'.repeat(500)}`,
      '??&&==',
    ]) {
      expect(() => parseRaceLink(search)).not.toThrow();
    }
  });
});
