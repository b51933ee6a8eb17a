/**
 * The replay, loaded on first need (the race page's "Open a recording…", a dropped file, `?replay=`,
 * "Recorded races"): nothing of it is in a page's first load (scripts/bundle-budget.mjs).
 */
export { prepareRecording } from './moment.ts';
export { fetchBundledIndex, fetchRecording, readRecording } from './open.ts';
export { ReplayView } from './ReplayView.tsx';
export { RoomReplayView } from './RoomReplayView.tsx';
export { prepareRoomRecording } from './room-moment.ts';
