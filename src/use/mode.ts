import { CachixError } from '../errors.js';

/** What `use` found out about the machine (spec §7.2 step 3). */
export interface EnvironmentFacts {
  user: string;
  isRoot: boolean;
  /** /nix/store writable, or the user (or one of their groups) is in trusted-users. */
  isTrusted: boolean;
  isNixOS: boolean;
}

export type RequestedMode = 'nixos' | 'root-nixconf' | 'user-nixconf' | 'untrusted-requires-sudo';

export type InstallMode =
  | { kind: 'custom'; directory: string }
  | { kind: 'root-nixconf' }
  | { kind: 'user-nixconf' }
  | { kind: 'nixos' }
  | { kind: 'untrusted-nixos' }
  | { kind: 'untrusted-requires-sudo' };

/** The first rule of spec §7.2 step 4 that matches; pure, so it is table-tested. */
export function chooseMode(facts: EnvironmentFacts, requested: { mode?: RequestedMode; outputDirectory?: string }): InstallMode {
  if ((facts.isRoot || facts.isTrusted) && requested.outputDirectory !== undefined) {
    return { kind: 'custom', directory: requested.outputDirectory };
  }
  if (requested.mode !== undefined) return { kind: requested.mode };
  if (facts.isNixOS && facts.isRoot) return { kind: 'nixos' };
  if (!facts.isNixOS && facts.isRoot) return { kind: 'root-nixconf' };
  if (facts.isTrusted) return { kind: 'user-nixconf' };
  if (facts.isNixOS) return { kind: 'untrusted-nixos' };
  return { kind: 'untrusted-requires-sudo' };
}

/** The fatal error for an untrusted outcome, with what to do about it; undefined otherwise. */
export function untrustedError(mode: InstallMode, user: string): CachixError | undefined {
  if (mode.kind === 'untrusted-nixos') {
    return new CachixError(`user ${user} is not trusted by Nix, so it cannot configure binary caches on this NixOS system`, {
      hint: `run the command as root, or add \`nix.settings.trusted-users = [ "root" "${user}" ];\` to your configuration.nix and run \`sudo nixos-rebuild switch\``,
    });
  }
  if (mode.kind === 'untrusted-requires-sudo') {
    return new CachixError(`user ${user} is not trusted by Nix, so it cannot configure binary caches`, {
      hint: `run the command as root (sudo), or make ${user} trusted: \`echo "trusted-users = root ${user}" | sudo tee -a /etc/nix/nix.conf && sudo pkill nix-daemon\``,
    });
  }
  return undefined;
}
