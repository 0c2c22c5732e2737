/** Real-Nix test helpers: availability gates, store-path fixtures, and Nix as a cache consumer. */
export { nixAvailable, requireNix, describeNix, itNix } from './nix/available.js';
export { makeTestClosure, makeManyTinyPaths, prepareTestClosureBuild, uniqueSalt, type TestClosure, type TestClosureOptions, type ManyTinyPathsOptions } from './nix/closure.js';
export {
  substituteInto,
  substituteWithUserConf,
  verifyStore,
  isValidIn,
  makeTempStore,
  removeStore,
  type SubstituteOptions,
} from './nix/substitute.js';
export { run, runOk, cleanNixEnv, type RunResult } from './nix/run.js';
