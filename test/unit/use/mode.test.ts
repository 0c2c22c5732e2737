import { describe, expect, it } from 'vitest';
import { chooseMode, untrustedError, type EnvironmentFacts, type InstallMode, type RequestedMode } from '../../../src/use/mode.js';

const facts = (isRoot: boolean, isTrusted: boolean, isNixOS: boolean): EnvironmentFacts => ({
  user: isRoot ? 'root' : 'alice',
  isRoot,
  isTrusted,
  isNixOS,
});

type Row = [string, EnvironmentFacts, { mode?: RequestedMode; outputDirectory?: string }, InstallMode];

// Every rule of spec §7.2 step 4, in order, plus the cases where an earlier rule must win.
const rows: Row[] = [
  ['1: root + -O => custom', facts(true, false, false), { outputDirectory: '/o' }, { kind: 'custom', directory: '/o' }],
  ['1: trusted + -O => custom', facts(false, true, false), { outputDirectory: '/o' }, { kind: 'custom', directory: '/o' }],
  ['1 beats 2: root + -O + -m nixos => custom', facts(true, false, true), { outputDirectory: '/o', mode: 'nixos' }, { kind: 'custom', directory: '/o' }],
  ['1 needs trust: untrusted + -O falls through', facts(false, false, false), { outputDirectory: '/o' }, { kind: 'untrusted-requires-sudo' }],
  ['2: -m user-nixconf as root on NixOS', facts(true, false, true), { mode: 'user-nixconf' }, { kind: 'user-nixconf' }],
  ['2: -m root-nixconf for an untrusted user', facts(false, false, false), { mode: 'root-nixconf' }, { kind: 'root-nixconf' }],
  ['2: -m nixos off NixOS', facts(false, true, false), { mode: 'nixos' }, { kind: 'nixos' }],
  ['2: hidden -m untrusted-requires-sudo', facts(true, true, false), { mode: 'untrusted-requires-sudo' }, { kind: 'untrusted-requires-sudo' }],
  ['3: NixOS + root => nixos', facts(true, false, true), {}, { kind: 'nixos' }],
  ['3: NixOS + root + trusted => nixos', facts(true, true, true), {}, { kind: 'nixos' }],
  ['4: not NixOS + root => root-nixconf', facts(true, false, false), {}, { kind: 'root-nixconf' }],
  ['4: not NixOS + root + trusted => root-nixconf', facts(true, true, false), {}, { kind: 'root-nixconf' }],
  ['5: trusted user => user-nixconf', facts(false, true, false), {}, { kind: 'user-nixconf' }],
  ['5: trusted user on NixOS => user-nixconf', facts(false, true, true), {}, { kind: 'user-nixconf' }],
  ['6: untrusted on NixOS', facts(false, false, true), {}, { kind: 'untrusted-nixos' }],
  ['7: untrusted elsewhere', facts(false, false, false), {}, { kind: 'untrusted-requires-sudo' }],
];

describe('chooseMode', () => {
  it.each(rows)('%s', (_name, f, requested, expected) => {
    expect(chooseMode(f, requested)).toEqual(expected);
  });
});

describe('untrustedError', () => {
  it('explains the NixOS case with the trusted-users setting for this user', () => {
    const error = untrustedError({ kind: 'untrusted-nixos' }, 'alice');
    expect(error?.message).toContain('not trusted');
    expect(error?.message).toContain('NixOS');
    expect(error?.hint).toContain('nix.settings.trusted-users = [ "root" "alice" ];');
    expect(error?.exitCode).toBe(1);
  });

  it('explains the sudo case with the tee command for this user', () => {
    const error = untrustedError({ kind: 'untrusted-requires-sudo' }, 'bob');
    expect(error?.message).toContain('user bob is not trusted');
    expect(error?.hint).toContain('echo "trusted-users = root bob" | sudo tee -a /etc/nix/nix.conf && sudo pkill nix-daemon');
  });

  it.each<InstallMode>([{ kind: 'nixos' }, { kind: 'root-nixconf' }, { kind: 'user-nixconf' }, { kind: 'custom', directory: '/x' }])(
    'is undefined for $kind',
    (mode) => {
      expect(untrustedError(mode, 'alice')).toBeUndefined();
    },
  );
});
