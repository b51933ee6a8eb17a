export {
  type ClientLimitSettings,
  type ClientLimits,
  clientLimitError,
  clientOf,
  createClientLimits,
  GAUGE_RETRY_AFTER_S,
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
export { memoryBudgets, type RateBudgetOptions, type RateBudgets, redisBudgets } from './rateBudgets.ts';
