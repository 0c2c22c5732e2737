import { join } from 'node:path';
import { xdgCacheHome } from '../config/paths.js';

/**
 * Where the daemon listens (spec §8): --socket, else $CACHIX_DAEMON_SOCKET, else
 * $XDG_RUNTIME_DIR/cachix/cachix-daemon.sock, else under $XDG_CACHE_HOME (~/.cache)/cachix.
 */
export function daemonSocketPath(env: NodeJS.ProcessEnv, option?: string): string {
  if (option) return option;
  if (env.CACHIX_DAEMON_SOCKET) return env.CACHIX_DAEMON_SOCKET;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'cachix', 'cachix-daemon.sock');
  return join(xdgCacheHome(env), 'cachix', 'cachix-daemon.sock');
}
