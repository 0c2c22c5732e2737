import type { CompressionMethodJson, CompressionQuery } from '../api/types.js';

export type Compression = 'xz' | 'zstd';

/** The three spellings of a method (spec §6.3): CLI/narinfo, API query string, API JSON. */
export function compressionQuery(method: Compression): CompressionQuery {
  return method === 'xz' ? 'xz' : 'zst';
}

export function compressionFromJson(value: CompressionMethodJson): Compression {
  return value === 'XZ' ? 'xz' : 'zstd';
}

export function narExtension(method: Compression): string {
  return method === 'xz' ? 'xz' : 'zst';
}

/** xz only has presets 0-9; zstd's useful range here is 1-16 (0 means its default, 3). */
export function effectiveLevel(method: Compression, level: number): number {
  if (method === 'xz') return Math.min(level, 9);
  return level === 0 ? 3 : level;
}

/** Arguments for the system compressor: every core, streaming stdin to stdout. */
export function compressorCommand(method: Compression, level: number): { program: string; args: string[] } {
  const lvl = effectiveLevel(method, level);
  if (method === 'xz') return { program: 'xz', args: ['-T0', `-${lvl}`, '-c', '-q'] };
  // --no-progress/-q: the child writes only data to stdout and nothing chatty to stderr.
  return { program: 'zstd', args: ['-T0', `-${lvl}`, '-c', '-q'] };
}

/** Arguments to compress many files in one run, each `f` into `f.zst` / `f.xz`, inputs removed. */
export function batchCompressorCommand(method: Compression, level: number): { program: string; args: string[]; suffix: string } {
  const lvl = effectiveLevel(method, level);
  if (method === 'xz') return { program: 'xz', args: ['-T0', `-${lvl}`, '-q', '-f'], suffix: '.xz' };
  return { program: 'zstd', args: [`-${lvl}`, '-q', '-f', '--rm'], suffix: '.zst' };
}
