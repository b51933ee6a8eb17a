/** The exit code with which the server asks its supervisor to start it again (EX_TEMPFAIL, sysexits.h). */
export const RESTART_EXIT_CODE = 75;

/** What the server tells its supervisor over the IPC channel. */
export type SupervisorMessage = { type: 'listening'; port: number; receiverPort: number };
