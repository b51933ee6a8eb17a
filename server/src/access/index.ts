export {
  type ClientLimitSettings,
  type ClientLimits,
  clientLimitError,
  clientOf,
  createClientLimits,
} from './clientLimits.ts';
export {
  createOperatorGate,
  generateOperatorToken,
  isLocal,
  type OperatorGate,
  type Peer,
  peerOf,
} from './operator.ts';
export { createTaskOwnership, type Requester, type TaskOwnership } from './ownership.ts';
