import type { Readable, Writable } from 'node:stream';

/** What every command receives: global options and the process's I/O, injectable for tests. */
export interface Context {
  /** Absolute path of the config file (from -c/--config or the XDG default). */
  configPath: string;
  /** --host / --hostname, when given. */
  hostOverride: string | undefined;
  verbose: boolean;
  env: NodeJS.ProcessEnv;
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number; rows?: number };
}
