/*
 * Notes a lane puts on its card that the page also reads (the scenarios' checks tell a recovered
 * socket from a re-subscribed one by them): here, so that a feature reads them without importing a
 * lane.
 */

/** The card's note when socket.io recovered the session after a drop. */
export const WS_RECOVERED_NOTE_PREFIX = 'Reconnected: socket.io recovered the session';
/** The card's note when it could not, and the lane asked for what it missed itself. */
export const WS_RESUBSCRIBED_NOTE_PREFIX = 'Reconnected: socket.io could not recover the session';
