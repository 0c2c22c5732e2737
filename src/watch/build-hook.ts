import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xdgConfigHome } from '../config/paths.js';
import { MAX_SOCKET_PATH } from '../daemon/unix-socket.js';

export interface BuildHook {
  /** Where the in-process daemon listens; the hook hands built paths to it. */
  socketPath: string;
  /** The command's environment: Nix reads the hook from it. */
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

/**
 * The post-build-hook mode of watch-exec (spec §8): a temp dir (under $RUNNER_TEMP when the socket
 * path stays short enough) holding `post-build-hook.sh`, which runs `cachix daemon push --socket …
 * $OUT_PATHS` after every build (a failing hook fails the build, as Nix wants), and a nix.conf that sets it. The command gets
 * NIX_USER_CONF_FILES=<that nix.conf>:<its value, or the XDG list Nix would read> (the first file
 * wins), or, when NIX_CONF is set, the hook line appended to it.
 */
export async function writeBuildHook(env: NodeJS.ProcessEnv, cachix: { node: string; script: string }): Promise<BuildHook> {
  const base = env.RUNNER_TEMP && Buffer.byteLength(join(env.RUNNER_TEMP, 'cachix-hook-XXXXXX', 'daemon.sock')) <= MAX_SOCKET_PATH ? env.RUNNER_TEMP : tmpdir();
  const dir = await mkdtemp(join(base, 'cachix-hook-'));
  const socketPath = join(dir, 'daemon.sock');
  const hook = join(dir, 'post-build-hook.sh');
  await writeFile(
    hook,
    [
      '#!/bin/sh',
      '# Written by cachix watch-exec: hands what Nix just built to the cachix of that run.',
      '# Nix 2.8 leaves OUT_PATHS empty for local builds (fixed in later Nix): then ask for the outputs of DRV_PATH.',
      'paths=${OUT_PATHS:-$(nix-store --query --outputs "$DRV_PATH")}',
      // </dev/null: with no paths, `daemon push` would read them from stdin, which Nix may leave open.
      `exec ${shellQuote(cachix.node)} ${shellQuote(cachix.script)} daemon push --socket ${shellQuote(socketPath)} $paths </dev/null`,
      '',
    ].join('\n'),
  );
  await chmod(hook, 0o755);
  const conf = join(dir, 'nix.conf');
  const line = `post-build-hook = ${hook}`;
  await writeFile(conf, `${line}\n`);
  const hookEnv: NodeJS.ProcessEnv =
    env.NIX_CONF !== undefined
      ? { NIX_CONF: `${env.NIX_CONF}\n${line}\n` }
      : { NIX_USER_CONF_FILES: [conf, env.NIX_USER_CONF_FILES ?? xdgUserConfFiles(env)].join(':') };
  return { socketPath, env: { ...env, ...hookEnv }, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The user nix.conf files Nix reads when NIX_USER_CONF_FILES is unset. */
function xdgUserConfFiles(env: NodeJS.ProcessEnv): string {
  const dirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter((d) => d !== '');
  return [xdgConfigHome(env), ...dirs].map((d) => join(d, 'nix', 'nix.conf')).join(':');
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
