/** The narinfo text format of Nix binary caches (pure: text in, text out). */
export interface NarInfo {
  storePath: string;
  url: string;
  compression: string;
  fileHash?: string;
  fileSize?: number;
  narHash: string;
  narSize: number;
  /** Base names, as on the `References:` line. */
  references: string[];
  deriver?: string;
  system?: string;
  sigs: string[];
  ca?: string;
}

export function renderNarInfo(info: NarInfo): string {
  const lines = [`StorePath: ${info.storePath}`, `URL: ${info.url}`, `Compression: ${info.compression}`];
  if (info.fileHash !== undefined) lines.push(`FileHash: ${info.fileHash}`);
  if (info.fileSize !== undefined) lines.push(`FileSize: ${info.fileSize}`);
  lines.push(`NarHash: ${info.narHash}`, `NarSize: ${info.narSize}`, `References: ${[...info.references].sort().join(' ')}`);
  if (info.deriver !== undefined) lines.push(`Deriver: ${info.deriver}`);
  if (info.system !== undefined) lines.push(`System: ${info.system}`);
  for (const sig of info.sigs) lines.push(`Sig: ${sig}`);
  if (info.ca !== undefined) lines.push(`CA: ${info.ca}`);
  return lines.join('\n') + '\n';
}

export function parseNarInfo(text: string): NarInfo {
  const fields = new Map<string, string>();
  const sigs: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed narinfo line: ${line}`);
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Sig') sigs.push(value);
    else fields.set(key, value);
  }
  const need = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`narinfo lacks ${key}`);
    return value;
  };
  const refs = fields.get('References') ?? '';
  const info: NarInfo = {
    storePath: need('StorePath'),
    url: need('URL'),
    compression: fields.get('Compression') ?? 'bzip2',
    narHash: need('NarHash'),
    narSize: Number(need('NarSize')),
    references: refs === '' ? [] : refs.split(' '),
    sigs,
  };
  const fileHash = fields.get('FileHash');
  if (fileHash !== undefined) info.fileHash = fileHash;
  const fileSize = fields.get('FileSize');
  if (fileSize !== undefined) info.fileSize = Number(fileSize);
  const deriver = fields.get('Deriver');
  if (deriver !== undefined) info.deriver = deriver;
  const system = fields.get('System');
  if (system !== undefined) info.system = system;
  const ca = fields.get('CA');
  if (ca !== undefined) info.ca = ca;
  return info;
}
