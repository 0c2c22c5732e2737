const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Two decimals, binary units, as the real client prints sizes: `120.00 B`, `4.50 MiB`. */
export function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${UNITS[unit]}`;
}

export function rate(bytes: number, seconds: number): string {
  return `${((bytes / Math.max(seconds, 0.001)) / (1024 * 1024)).toFixed(1)} MiB/s`;
}

export function percent(done: number, total: number): string {
  return `${total === 0 ? 100 : Math.min(100, Math.floor((done / total) * 100))}%`;
}
