import { describe, expect, it } from 'vitest';
import { humanSize } from '../../../src/ui/format.js';

describe('humanSize', () => {
  it.each([
    [0, '0.00 B'],
    [120, '120.00 B'],
    [1023, '1023.00 B'],
    [1024, '1.00 KiB'],
    [4.5 * 1024 * 1024, '4.50 MiB'],
    [3 * 1024 ** 3, '3.00 GiB'],
    [2 * 1024 ** 4, '2.00 TiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });
});
