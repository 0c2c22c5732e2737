/** Public surface of the in-process Cachix API v1 stand-in used by integration and e2e tests. */
export { startStandIn, StandIn, type CacheHandle } from './server.js';
export { mulberry32 } from './faults.js';
export { loopbackAliasesWork } from './loopback.js';
export type {
  AddCacheOptions,
  FaultConfig,
  FaultKind,
  InjectedFault,
  LogEntry,
  Permission,
  RouteKind,
  StandInOptions,
  TargetedFault,
} from './types.js';
