import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CachixError } from '../errors.js';
import { isWritable } from '../util/fs-access.js';
import { checkWritable, writeTarget } from './write-target.js';

/**
 * NixOS mode (spec §7.4): a glue module `cachix.nix` that imports every `cachix/*.nix`,
 * and one module per cache. Pure renderers plus one writer.
 */

export function renderGlueModule(): string {
  return `# WARN: this file will get overwritten by $ cachix use <name>
{ pkgs, lib, ... }:

let
  folder = ./cachix;
  toImport = name: value: folder + ("/" + name);
  filterCaches = key: value: value == "regular" && lib.hasSuffix ".nix" key;
  imports = lib.mapAttrsToList toImport (lib.filterAttrs filterCaches (builtins.readDir folder));
in {
  inherit imports;
  nix.settings.substituters = ["https://cache.nixos.org/"];
}
`;
}

export function renderCacheModule(uri: string, publicKeys: readonly string[]): string {
  return `{
  nix = {
    settings = {
      substituters = [
        ${nixString(uri)}
      ];
      trusted-public-keys = [
        ${publicKeys.map(nixString).join(' ')}
      ];
    };
  };
}
`;
}

/** A Nix string literal: `"`, `\\` and `${` must be escaped. */
function nixString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/\$\{/g, '\\${')}"`;
}

/** A file name for the cache module; local caches are named by their URL. */
export function cacheModuleName(name: string): string {
  return name.replace(/^file:\/\//, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'cache';
}

export interface NixosFiles {
  glue: string;
  module: string;
}

export function nixosFilePaths(folder: string, name: string): NixosFiles {
  return { glue: join(folder, 'cachix.nix'), module: join(folder, 'cachix', `${cacheModuleName(name)}.nix`) };
}

export async function writeNixosFiles(folder: string, name: string, uri: string, publicKeys: readonly string[], storeDirs: string[]): Promise<NixosFiles> {
  const files = nixosFilePaths(folder, name);
  const hint = 'pass --nixos-folder DIR with a writable location';
  try {
    await mkdir(join(folder, 'cachix'), { recursive: true });
  } catch (error) {
    throw new CachixError(`cannot create ${join(folder, 'cachix')}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint });
  }
  if (!(await isWritable(join(folder, 'cachix')))) throw new CachixError(`${join(folder, 'cachix')} is not writable`, { hint });
  await checkWritable(files.glue, storeDirs);
  await checkWritable(files.module, storeDirs);
  await writeTarget(files.glue, renderGlueModule());
  await writeTarget(files.module, renderCacheModule(uri, publicKeys));
  return files;
}

export function nixosInstructions(folder: string, files: NixosFiles): string {
  return `Cachix configuration written to ${files.glue}.
Binary cache configuration written to ${files.module}.

To start using cachix, add the following to ${join(folder, 'configuration.nix')}:

    imports = [ ./cachix.nix ];

Then run:

    $ sudo nixos-rebuild switch
`;
}
