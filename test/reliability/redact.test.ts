/** The last line of defence for secrets in printed errors (src/util/redact.ts, printError). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { printError } from '../../src/cli.js';
import { CachixError } from '../../src/errors.js';
import { redact, registerSecret } from '../../src/util/redact.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('redact', () => {
  it('replaces registered secrets, longest first, and the key material of `name:base64` keys', () => {
    registerSecret('tok-abc-1234567890');
    registerSecret('mycache.cachix.org-1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=');
    expect(redact('a tok-abc-1234567890 b')).toBe('a <redacted> b');
    expect(redact('key mycache.cachix.org-1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= end')).toBe('key <redacted> end');
    expect(redact('bare QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= end')).toBe('bare <redacted> end');
  });

  it('hides credentials in header syntax even when never registered, but keeps ordinary words', () => {
    expect(redact('echo: Bearer unregistered-token-xyz for /api')).toBe('echo: Bearer <redacted> for /api');
    expect(redact('Authorization: Basic OnRvay0xMjM0NTY3OA==')).toBe('Authorization: Basic <redacted>');
    expect(redact('send a Bearer token')).toBe('send a Bearer token');
  });

  it('ignores values too short to be secrets', () => {
    registerSecret('ab');
    registerSecret(undefined);
    expect(redact('abc ab')).toBe('abc ab');
  });

  it('printError redacts the message, the hint and (with --verbose) the stack', () => {
    registerSecret('tok-printed-0987654321');
    const cause = new Error('upstream said tok-printed-0987654321');
    const error = new CachixError('failed with tok-printed-0987654321', { hint: 'token tok-printed-0987654321', cause });
    for (const verbose of [false, true]) {
      const out = new Capture();
      expect(printError(error, out as unknown as NodeJS.WriteStream, verbose)).toBe(1);
      expect(out.text).not.toContain('tok-printed-0987654321');
      expect(out.text).toContain('cachix: failed with <redacted>');
      if (verbose) expect(out.text).toContain('upstream said <redacted>');
    }
    const plain = new Capture();
    printError(new Error('boom tok-printed-0987654321'), plain as unknown as NodeJS.WriteStream, true);
    expect(plain.text).not.toContain('tok-printed-0987654321');
  });
});
