import { Command, InvalidArgumentError, Option } from 'commander';
import { configFilePath } from './config/paths.js';
import type { Context } from './context.js';
import { CachixError, describeError } from './errors.js';
import { redact, registerSecret } from './util/redact.js';
import { versionLine } from './version.js';

/**
 * The whole command-line surface: every command, option and default lives here, and only
 * here (as the real client's OptionsParser). Commands are imported lazily so that
 * `cachix --version` and quick commands start fast.
 */

export const DEFAULTS = {
  compressionLevel: 2,
  chunkSize: 32 * 1024 * 1024,
  minChunkSize: 5 * 1024 * 1024,
  maxChunkSize: 5 * 1024 * 1024 * 1024,
  numConcurrentChunks: 4,
  jobs: 8,
  nixosFolder: '/etc/nixos/',
  narinfoBatchSize: 100,
  narinfoBatchTimeout: 0.5,
} as const;

export interface PushOptions {
  compressionLevel: number;
  compressionMethod: 'xz' | 'zstd' | undefined;
  chunkSize: number;
  numConcurrentChunks: number;
  jobs: number;
  omitDeriver: boolean;
}

export type UseMode = 'nixos' | 'root-nixconf' | 'user-nixconf' | 'untrusted-requires-sudo';

function integerIn(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes, optionally with a binary suffix (K, M, G, with or without "iB"). */
function parseChunkSize(value: string): number {
  const match = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError('chunk size must be a number of bytes, e.g. 33554432 or 32M');
  const bytes = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  if (bytes < DEFAULTS.minChunkSize || bytes > DEFAULTS.maxChunkSize) {
    throw new InvalidArgumentError(`chunk size must be between ${DEFAULTS.minChunkSize} (5 MiB) and ${DEFAULTS.maxChunkSize} (5 GiB) bytes`);
  }
  return bytes;
}

function secondsIn(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number of seconds`);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max} seconds`);
    return n;
  };
}

/** How watch-store and watch-exec gather reported paths before asking the cache about them. */
function addBatchOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--narinfo-batch-size <n>', 'paths gathered before one missing-path query')
        .default(DEFAULTS.narinfoBatchSize)
        .argParser(integerIn('narinfo batch size', 1, 32768)),
    )
    .addOption(
      new Option('--narinfo-batch-timeout <seconds>', 'longest wait for a batch to fill')
        .default(DEFAULTS.narinfoBatchTimeout)
        .argParser(secondsIn('narinfo batch timeout', 0, 3600)),
    );
}

function watchMode(value: string): 'auto' | 'store' | 'post-build-hook' {
  if (value === 'auto' || value === 'store' || value === 'post-build-hook') return value;
  throw new InvalidArgumentError('watch mode must be auto, store or post-build-hook');
}

function compressionMethod(value: string): 'xz' | 'zstd' {
  if (value === 'xz' || value === 'zstd') return value;
  throw new InvalidArgumentError('compression method must be "xz" or "zstd"');
}

function useMode(value: string): UseMode {
  if (value === 'nixos' || value === 'root-nixconf' || value === 'user-nixconf' || value === 'untrusted-requires-sudo') return value;
  throw new InvalidArgumentError('mode must be one of nixos, root-nixconf, user-nixconf');
}

/** The push options shared by push, watch-store and watch-exec. */
function addPushOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-l, --compression-level <level>', 'compression level: 0-9 for xz, 0-16 for zstd')
        .default(DEFAULTS.compressionLevel)
        .argParser(integerIn('compression level', 0, 16)),
    )
    .addOption(
      new Option('-m, --compression-method <method>', "xz or zstd (default: the cache's preference, else zstd)").argParser(compressionMethod),
    )
    .addOption(
      new Option('-s, --chunk-size <bytes>', 'size of each uploaded part, 5 MiB to 5 GiB (raised automatically past 10,000 parts)')
        .default(DEFAULTS.chunkSize)
        .argParser(parseChunkSize),
    )
    .addOption(
      new Option('-n, --num-concurrent-chunks <n>', 'parts of one path uploaded at once')
        .default(DEFAULTS.numConcurrentChunks)
        .argParser(integerIn('number of concurrent chunks', 1, 64)),
    )
    .addOption(
      new Option('-j, --jobs <n>', 'store paths pushed at once').default(DEFAULTS.jobs).argParser(integerIn('jobs', 1, 256)),
    )
    .option('--omit-deriver', 'do not publish the deriver of each path', false);
}

function pushOptionsFrom(opts: Record<string, unknown>): PushOptions {
  return {
    compressionLevel: opts.compressionLevel as number,
    compressionMethod: opts.compressionMethod as PushOptions['compressionMethod'],
    chunkSize: opts.chunkSize as number,
    numConcurrentChunks: opts.numConcurrentChunks as number,
    jobs: opts.jobs as number,
    omitDeriver: Boolean(opts.omitDeriver),
  };
}

function watchOptionsFrom(opts: Record<string, unknown>): PushOptions & { narinfoBatchSize: number; narinfoBatchTimeout: number } {
  return { ...pushOptionsFrom(opts), narinfoBatchSize: opts.narinfoBatchSize as number, narinfoBatchTimeout: opts.narinfoBatchTimeout as number };
}

export interface IO {
  env: NodeJS.ProcessEnv;
  stdin: Context['stdin'];
  stdout: Context['stdout'];
  stderr: Context['stderr'];
}

export function buildProgram(io: IO, setExitCode: (code: number) => void): Command {
  const program = new Command('cachix');
  const context = (): Context => {
    const g = program.opts<{ config?: string; host?: string; hostname?: string; verbose?: boolean }>();
    return {
      configPath: configFilePath(io.env, g.config),
      hostOverride: g.host ?? g.hostname,
      verbose: Boolean(g.verbose) || io.env.CACHIX_DEBUG === '1',
      env: io.env,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
    };
  };
  const finish = (code: number | void) => setExitCode(code ?? 0);

  program
    // Global options go before the command (as with the real client), so that watch-exec can
    // hand everything after its command name to that command untouched.
    .enablePositionalOptions()
    .description('Nix binary cache client (cachix-ts)')
    .version(versionLine(), '-V, --version', 'print the version')
    .option('-c, --config <path>', 'config file (default: $XDG_CONFIG_HOME/cachix/cachix.dhall)')
    .option('--host <uri>', 'Cachix host (default: config hostname, else https://cachix.org)')
    .addOption(new Option('--hostname <uri>', 'alias of --host').hideHelp())
    .option('-v, --verbose', 'show stack traces and debug details', false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showSuggestionAfterError(true);

  program
    .command('authtoken')
    .description('store an auth token in the config file')
    .argument('[token]', 'the token (prefer --stdin: argv is visible to other users)')
    .option('--stdin', 'read the token from standard input', false)
    .action(async (token: string | undefined, opts: { stdin: boolean }) => {
      const { run } = await import('./commands/authtoken.js');
      finish(await run(context(), { token, stdin: opts.stdin }));
    });

  program
    .command('config')
    .description('read or change the config file')
    .argument('<action>', 'get or set')
    .argument('<key>', 'hostname')
    .argument('[value]', 'new value (for set)')
    .action(async (action: string, key: string, value: string | undefined) => {
      const { run } = await import('./commands/config.js');
      finish(await run(context(), { action, key, value }));
    });

  program
    .command('generate-keypair')
    .description('make a signing key pair, register its public key and keep the secret in the config')
    .argument('<cache>', 'cache name (or file:///dir for a local cache)')
    .action(async (cache: string) => {
      const { run } = await import('./commands/generate-keypair.js');
      finish(await run(context(), { cache }));
    });

  program
    .command('create')
    .description('create a cache with a signing key made locally')
    .argument('<cache>', 'cache name: lowercase letters, digits and dashes')
    .option('--private', 'make the cache private (read access needs a token)', false)
    .action(async (cache: string, opts: { private: boolean }) => {
      const { run } = await import('./commands/create.js');
      finish(await run(context(), { cache, isPrivate: opts.private }));
    });

  addPushOptions(
    program
      .command('push')
      .description('push store paths and their closures to a cache; paths come from arguments or stdin')
      .argument('<cache>', 'cache name (or file:///dir for a local cache)')
      .argument('[paths...]', 'store paths, or symlinks into the store such as ./result'),
  )
    .addOption(new Option('-w, --watch-store', 'deprecated: use the watch-store command').hideHelp())
    .action(async (cache: string, paths: string[], opts: Record<string, unknown>) => {
      if (opts.watchStore) throw new CachixError('--watch-store is deprecated, use the watch-store command: cachix watch-store ' + cache);
      const { run } = await import('./commands/push.js');
      finish(await run(context(), { cache, paths, options: pushOptionsFrom(opts) }));
    });

  addBatchOptions(
    addPushOptions(
      program
        .command('watch-store')
        .description('push every store path Nix registers from now until SIGINT/SIGTERM, then finish the queue')
        .argument('<cache>', 'cache name (or file:///dir for a local cache)'),
    ),
  ).action(async (cache: string, opts: Record<string, unknown>) => {
    const { run } = await import('./commands/watch-store.js');
    finish(await run(context(), { cache, options: watchOptionsFrom(opts) }));
  });

  const addWatchExec = (parent: Command): void => {
    addBatchOptions(
      addPushOptions(
        parent
          .command('watch-exec')
          .description('run a command and push what it builds; exits with its exit code')
          .argument('<cache>', 'cache name (or file:///dir for a local cache)')
          .argument('<command>', 'the command to run, e.g. nix-build')
          .argument('[args...]', 'its arguments (put -- before them if they start with -)')
          .passThroughOptions(),
      ),
    )
      .addOption(new Option('--watch-mode <mode>', 'how built paths are found: auto, store or post-build-hook').default('auto').argParser(watchMode))
      .action(async (cache: string, command: string, commandArgs: string[], opts: Record<string, unknown>) => {
        // After the first operand everything passes through, `--` included: it only separates.
        if (command === '--') {
          if (commandArgs.length === 0) throw new CachixError('watch-exec needs a command to run after --', { hint: 'e.g. cachix watch-exec mycache -- nix-build' });
          [command, ...commandArgs] = commandArgs as [string, ...string[]];
        }
        const { run } = await import('./commands/watch-exec.js');
        finish(await run(context(), { cache, command, args: commandArgs, watchMode: opts.watchMode as 'auto' | 'store' | 'post-build-hook', options: watchOptionsFrom(opts) }));
      });
  };
  addWatchExec(program);

  const daemon = program
    .command('daemon')
    .description('a long-running pusher that takes store paths over a Unix socket')
    .enablePositionalOptions();
  const socketHelp = 'the daemon socket (default: $CACHIX_DAEMON_SOCKET, else $XDG_RUNTIME_DIR/cachix/cachix-daemon.sock)';
  // `daemon run` takes the push options, where -s is --chunk-size: there the socket is --socket only.
  const socketOption = (short = true) => new Option(`${short ? '-s, ' : ''}--socket <path>`, socketHelp);
  addBatchOptions(
    addPushOptions(
      daemon
        .command('run')
        .description('push what clients send until SIGINT/SIGTERM or `daemon stop`, then finish the queue')
        .argument('<cache>', 'cache name (or file:///dir for a local cache)'),
    ),
  )
    .addOption(socketOption(false))
    .option('--no-remote-stop', 'refuse `daemon stop` from clients (only SIGINT/SIGTERM stop it)')
    .action(async (cache: string, opts: Record<string, unknown>) => {
      const { run } = await import('./commands/daemon.js');
      finish(await run(context(), { cache, socket: opts.socket as string | undefined, remoteStop: opts.remoteStop !== false, options: watchOptionsFrom(opts) }));
    });
  daemon
    .command('push')
    .description('hand store paths to the running daemon')
    .argument('[paths...]', 'store paths, or symlinks into the store such as ./result (none: nothing to do)')
    .addOption(socketOption())
    .option('--wait', 'wait until they are pushed, showing progress; exit 1 if one fails', false)
    .action(async (paths: string[], opts: { socket?: string; wait: boolean }) => {
      const { push } = await import('./commands/daemon.js');
      finish(await push(context(), { paths, socket: opts.socket, wait: opts.wait }));
    });
  daemon
    .command('doctor')
    .description('check that a daemon answers on the socket, and what it is doing')
    .addOption(socketOption())
    .action(async (opts: { socket?: string }) => {
      const { doctor } = await import('./commands/daemon.js');
      finish(await doctor(context(), { socket: opts.socket }));
    });
  // As the real client has it: the same as `cachix watch-exec`.
  addWatchExec(daemon);
  daemon
    .command('stop')
    .description('ask the daemon to finish its queue and exit; exits with its exit code')
    .addOption(socketOption())
    .action(async (opts: { socket?: string }) => {
      const { stop } = await import('./commands/daemon.js');
      finish(await stop(context(), { socket: opts.socket }));
    });

  program
    .command('deploy')
    .description('Cachix Deploy')
    .command('activate')
    .description('activate store paths on Cachix Deploy agents and follow the deployments (token: $CACHIX_ACTIVATE_TOKEN)')
    .argument('<spec>', 'deploy spec JSON: {"agents": {"<agent>": "/nix/store/…"}}')
    .option('-a, --agent <name>', 'only this agent (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--async', 'do not wait for the deployments to finish', false)
    .action(async (spec: string, opts: { agent: string[]; async: boolean }) => {
      const { activate } = await import('./commands/deploy.js');
      finish(await activate(context(), { specFile: spec, agents: opts.agent, async: opts.async }));
    });

  program
    .command('use')
    .description('configure Nix to substitute from a cache')
    .argument('<cache>', 'cache name (or file:///dir for a local cache)')
    .addOption(new Option('-m, --mode <mode>', 'nixos, root-nixconf or user-nixconf (default: detected)').argParser(useMode))
    .option('-d, --nixos-folder <dir>', 'where NixOS configuration lives', DEFAULTS.nixosFolder)
    .option('-O, --output-directory <dir>', 'write nix.conf (and netrc) into this directory instead')
    .action(async (cache: string, opts: { mode?: UseMode; nixosFolder: string; outputDirectory?: string }) => {
      const { run } = await import('./commands/use.js');
      finish(await run(context(), { cache, mode: opts.mode, nixosFolder: opts.nixosFolder, outputDirectory: opts.outputDirectory }));
    });

  program
    .command('remove')
    .description('remove a cache from nix.conf')
    .argument('<cache>', 'cache name (or file:///dir for a local cache)')
    .action(async (cache: string) => {
      const { run } = await import('./commands/remove.js');
      finish(await run(context(), { cache }));
    });

  program
    .command('pin')
    .description('pin a store path already in the cache under a name, so garbage collection keeps it (does not push it)')
    .argument('<cache>', 'cache name')
    .argument('<pin-name>', 'name of the pin')
    .argument('<store-path>', 'store path, or a symlink into the store such as ./result')
    .option('-a, --artifact <path>', 'a file inside the store path to offer for download (repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--keep-days <n>', 'keep the pin for N days')
    .option('--keep-revisions <n>', 'keep the last N revisions of the pin')
    .option('--keep-forever', 'keep the pin forever', false)
    .action(async (cache: string, pinName: string, storePath: string, opts: { artifact?: string[]; keepDays?: string; keepRevisions?: string; keepForever: boolean }) => {
      const { run } = await import('./commands/pin.js');
      finish(await run(context(), { cache, pinName, storePath, artifacts: opts.artifact ?? [], keepDays: opts.keepDays, keepRevisions: opts.keepRevisions, keepForever: opts.keepForever }));
    });

  program
    .command('doctor')
    .description('check the config, token, caches and optionally one store path; exits 1 if a check failed')
    .argument('[store-path]', 'a store path (or a symlink into the store) or a bare 32-character hash to look up in the caches')
    .option('--cache <name>', 'check this cache (default: every cache in the config)')
    .action(async (storePath: string | undefined, opts: { cache?: string }) => {
      const { run } = await import('./commands/doctor.js');
      finish(await run(context(), { cache: opts.cache, storePath }));
    });

  return program;
}

export function printError(error: unknown, stderr: Context['stderr'], verbose: boolean): number {
  // Every byte goes through redact(): servers and libraries may echo a token back in a message.
  const write = (text: string): void => void stderr.write(redact(text));
  if (error instanceof CachixError) {
    const hint = error.hint ? ` (${error.hint})` : '';
    write(`cachix: ${error.message}${hint}\n`);
    if (verbose && error.cause instanceof Error && error.cause.stack) write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  // Not a CachixError: a bug or an unexpected failure. One line, stack only on request.
  write(`cachix: ${describeError(error).split('\n')[0]}${verbose ? '' : ' (run with --verbose for details)'}\n`);
  if (verbose && error instanceof Error && error.stack) write(`${error.stack}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<void> {
  const io: IO = { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const program = buildProgram(io, (code) => {
    process.exitCode = code;
  });
  const verbose = argv.includes('-v') || argv.includes('--verbose') || process.env.CACHIX_DEBUG === '1';
  // Known before any command runs, so even errors from option parsing or config loading are redacted.
  registerSecret(process.env.CACHIX_AUTH_TOKEN);
  registerSecret(process.env.CACHIX_SIGNING_KEY?.trim());
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = printError(error, io.stderr, verbose);
  }
}
