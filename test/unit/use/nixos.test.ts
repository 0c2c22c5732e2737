import { describe, expect, it } from 'vitest';
import { cacheModuleName, nixosFilePaths, nixosInstructions, renderCacheModule, renderGlueModule } from '../../../src/use/nixos.js';

describe('NixOS files', () => {
  it('renders the per-cache module with the uri and every key on one line', () => {
    expect(renderCacheModule('https://foo.cachix.org', ['foo.cachix.org-1:AAA=', 'foo.cachix.org-2:BBB='])).toBe(`{
  nix = {
    settings = {
      substituters = [
        "https://foo.cachix.org"
      ];
      trusted-public-keys = [
        "foo.cachix.org-1:AAA=" "foo.cachix.org-2:BBB="
      ];
    };
  };
}
`);
  });

  it('escapes Nix string specials', () => {
    expect(renderCacheModule('https://x/"${a}\\', [])).toContain('"https://x/\\"\\${a}\\\\"');
  });

  it('renders a glue module that imports ./cachix/*.nix and keeps cache.nixos.org', () => {
    const glue = renderGlueModule();
    expect(glue.startsWith('# WARN: this file will get overwritten by $ cachix use <name>\n{ pkgs, lib, ... }:')).toBe(true);
    expect(glue).toContain('folder = ./cachix;');
    expect(glue).toContain('lib.hasSuffix ".nix" key');
    expect(glue).toContain('nix.settings.substituters = ["https://cache.nixos.org/"];');
  });

  it('names files by cache, local caches by a safe form of their path', () => {
    expect(nixosFilePaths('/etc/nixos/', 'foo')).toEqual({ glue: '/etc/nixos/cachix.nix', module: '/etc/nixos/cachix/foo.nix' });
    expect(cacheModuleName('file:///srv/my cache')).toBe('srv-my-cache');
  });

  it('tells what to import and to rebuild', () => {
    const text = nixosInstructions('/etc/nixos/', nixosFilePaths('/etc/nixos/', 'foo'));
    expect(text).toContain('/etc/nixos/cachix.nix');
    expect(text).toContain('/etc/nixos/cachix/foo.nix');
    expect(text).toContain('/etc/nixos/configuration.nix');
    expect(text).toContain('imports = [ ./cachix.nix ];');
    expect(text).toContain('sudo nixos-rebuild switch');
  });
});
