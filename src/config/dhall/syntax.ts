/**
 * A reader for the small Dhall subset a cachix config file uses (spec §2.2): record
 * literals, double-quoted text literals with Dhall escapes, list literals with an optional
 * type annotation, record/List/Text types, `--` and nested `{- -}` comments.
 * It only builds a syntax tree; the meaning (which fields, which types) is checked by
 * `decode.ts`. Errors carry the offset so the caller can report line:column.
 */

export type DhallType =
  | { kind: 'Text' }
  | { kind: 'List'; element: DhallType }
  | { kind: 'Record'; fields: Map<string, DhallType> };

export interface Annotation {
  type: DhallType;
  at: number;
}

export interface RecordField {
  name: string;
  value: DhallValue;
  /** Offset of the field's label. */
  at: number;
}

export type DhallValue = (
  | { kind: 'text'; value: string }
  | { kind: 'record'; fields: RecordField[] }
  | { kind: 'list'; items: DhallValue[] }
) & { at: number; annotations: Annotation[] };

export class DhallSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'DhallSyntaxError';
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  $: '$',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const LABEL_START = /[A-Za-z_]/;
const LABEL_CHAR = /[A-Za-z0-9_\-/]/;

/** Parses one whole Dhall expression (with surrounding whitespace/comments). */
export function parseDhallValue(text: string): DhallValue {
  const parser = new Parser(text);
  return parser.parseDocument();
}

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {
    // A UTF-8 byte order mark is not Dhall, but editors add it; it carries no meaning.
    if (src.startsWith('\uFEFF')) this.pos = 1;
  }

  parseDocument(): DhallValue {
    this.skipWhitespace();
    if (this.pos >= this.src.length) this.fail('the file is empty; expected a record such as { authToken = "…" }');
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos < this.src.length) {
      if (this.src.startsWith('//', this.pos) || this.src.startsWith('⫽', this.pos)) {
        this.fail('the record merge operator // is not supported in the config file');
      }
      this.fail(`unexpected ${this.describeHere()} after the end of the config record`);
    }
    return value;
  }

  // ── values ────────────────────────────────────────────────────────────────

  private parseValue(): DhallValue {
    const value = this.parsePrimaryValue();
    for (;;) {
      const save = this.pos;
      this.skipWhitespace();
      if (this.peek() === ':' && this.src[this.pos + 1] !== ':') {
        const at = this.pos;
        this.pos++;
        this.skipWhitespace();
        value.annotations.push({ type: this.parseType(), at });
      } else {
        this.pos = save;
        return value;
      }
    }
  }

  private parsePrimaryValue(): DhallValue {
    const c = this.peek();
    if (c === '"') return this.parseText();
    if (c === '{') return this.parseRecordLiteral();
    if (c === '[') return this.parseList();
    if (c === '(') {
      const open = this.pos;
      this.pos++;
      this.skipWhitespace();
      const inner = this.parseValue();
      this.skipWhitespace();
      if (this.peek() !== ')') this.fail(`expected ")" to close the "(" at ${this.lineColumn(open)}`);
      this.pos++;
      return inner;
    }
    if (c === "'" && this.src.startsWith("''", this.pos)) {
      this.fail(`multi-line ''…'' text is not supported in the config file; use "…" with escapes such as \\n`);
    }
    if (c === undefined) this.fail('unexpected end of file; expected a value');
    this.fail(`expected a value (a "text", a { record } or a [ list ]), found ${this.describeHere()}`);
  }

  private parseText(): DhallValue {
    const at = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unterminated text literal: missing closing "', at);
      const c = this.src[this.pos]!;
      if (c === '"') {
        this.pos++;
        return { kind: 'text', value: out, at, annotations: [] };
      }
      if (c === '\\') {
        out += this.parseEscape();
        continue;
      }
      if (c === '$' && this.src[this.pos + 1] === '{') {
        this.fail('text interpolation ${…} is not supported in the config file; write \\${ for a literal "${"');
      }
      const code = c.charCodeAt(0);
      if (c === '\n' || c === '\r') this.fail('unterminated text literal: missing closing " before the end of the line', at);
      if (code < 0x20) {
        this.fail(`control character U+${hex4(code)} in a text literal; write it as an escape such as \\t or \\u${hex4(code)}`);
      }
      out += c;
      this.pos++;
    }
  }

  private parseEscape(): string {
    const at = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) this.fail('unterminated text literal: the file ends after "\\"', at);
    if (c !== 'u') {
      const simple = SIMPLE_ESCAPES[c];
      if (simple === undefined) this.fail(`unknown escape "\\${c}" in a text literal`, at);
      this.pos += 2;
      return simple;
    }
    this.pos += 2;
    let digits: string;
    if (this.peek() === '{') {
      const close = this.src.indexOf('}', this.pos);
      digits = close < 0 ? '' : this.src.slice(this.pos + 1, close);
      if (!/^[0-9A-Fa-f]{1,8}$/.test(digits)) this.fail('invalid escape "\\u{…}": expected 1 to 6 hex digits between the braces', at);
      this.pos = close + 1;
    } else {
      digits = this.src.slice(this.pos, this.pos + 4);
      if (!/^[0-9A-Fa-f]{4}$/.test(digits)) this.fail('invalid escape "\\u": expected 4 hex digits, or \\u{…}', at);
      this.pos += 4;
    }
    const code = parseInt(digits, 16);
    if (code > 0x10ffff) this.fail(`invalid escape "\\u{${digits}}": beyond U+10FFFF`, at);
    if (code >= 0xd800 && code <= 0xdfff) {
      this.fail(`invalid escape: U+${hex4(code)} is a surrogate; write the character itself or \\u{…} with its code point`, at);
    }
    return String.fromCodePoint(code);
  }

  private parseRecordLiteral(): DhallValue {
    const at = this.pos;
    this.pos++; // {
    this.skipWhitespace();
    const fields: RecordField[] = [];
    if (this.peek() === '=') {
      // `{=}`: the empty record literal.
      this.pos++;
      this.skipWhitespace();
      this.expect('}', 'expected "}" after "{=" (the empty record)');
      return { kind: 'record', fields, at, annotations: [] };
    }
    if (this.peek() === ',') {
      // Dhall allows one leading separator: `{ , a = "x" }`.
      this.pos++;
      this.skipWhitespace();
    }
    if (this.peek() === '}') this.fail('"{}" is the empty record type, not a value; the config needs { authToken = "…", … } (or {=})');
    for (;;) {
      const fieldAt = this.pos;
      const name = this.parseLabel();
      this.skipWhitespace();
      if (this.peek() === ':') this.fail(`expected "=" after field name "${name}" (":" makes a record type, not a value)`);
      if (this.peek() === '.') this.fail(`dotted field names such as "${name}.…" are not supported in the config file`);
      if (this.peek() !== '=') this.fail(`expected "=" after field name "${name}"`);
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue();
      fields.push({ name, value, at: fieldAt });
      if (this.afterItem('}', `after the value of field "${name}"`) === 'closed') return { kind: 'record', fields, at, annotations: [] };
    }
  }

  private parseList(): DhallValue {
    const at = this.pos;
    this.pos++; // [
    this.skipWhitespace();
    const items: DhallValue[] = [];
    if (this.peek() === ',') {
      this.pos++;
      this.skipWhitespace();
    }
    if (this.peek() === ']') {
      this.pos++;
      return { kind: 'list', items, at, annotations: [] };
    }
    for (;;) {
      items.push(this.parseValue());
      if (this.afterItem(']', 'in the list') === 'closed') return { kind: 'list', items, at, annotations: [] };
    }
  }

  /** After a record field or list item: `,` means another follows, `close` ends the literal. */
  private afterItem(close: '}' | ']', where: string): 'more' | 'closed' {
    this.skipWhitespace();
    if (this.peek() === ',') {
      this.pos++;
      this.skipWhitespace();
      return 'more';
    }
    if (this.peek() === close) {
      this.pos++;
      return 'closed';
    }
    this.fail(`expected "," or "${close}" ${where}, found ${this.describeHere()}`);
  }

  // ── types ─────────────────────────────────────────────────────────────────

  private parseType(): DhallType {
    const c = this.peek();
    if (c === '{') return this.parseRecordType();
    if (c === '(') {
      this.pos++;
      this.skipWhitespace();
      const inner = this.parseType();
      this.skipWhitespace();
      this.expect(')', 'expected ")" after the type');
      return inner;
    }
    if (c !== undefined && LABEL_START.test(c)) {
      const at = this.pos;
      const name = this.parseLabel();
      if (name === 'Text') return { kind: 'Text' };
      if (name === 'List') {
        this.skipWhitespace();
        if (this.pos >= this.src.length) this.fail('expected the element type after "List"');
        return { kind: 'List', element: this.parseTypeArgument() };
      }
      this.fail(`unsupported type "${name}" (the config only uses Text, List and records)`, at);
    }
    this.fail(`expected a type such as List { name : Text, secretKey : Text }, found ${this.describeHere()}`);
  }

  /** The argument of `List`: a type that binds tighter than application. */
  private parseTypeArgument(): DhallType {
    const c = this.peek();
    if (c === '{' || c === '(') return this.parseType();
    const at = this.pos;
    if (c !== undefined && LABEL_START.test(c)) {
      const name = this.parseLabel();
      if (name === 'Text') return { kind: 'Text' };
      if (name === 'List') this.fail('write List (List …) with parentheses', at);
      this.fail(`unsupported type "${name}" (the config only uses Text, List and records)`, at);
    }
    this.fail(`expected a type after "List", found ${this.describeHere()}`);
  }

  private parseRecordType(): DhallType {
    this.pos++; // {
    this.skipWhitespace();
    const fields = new Map<string, DhallType>();
    if (this.peek() === ',') {
      this.pos++;
      this.skipWhitespace();
    }
    if (this.peek() === '}') {
      this.pos++;
      return { kind: 'Record', fields };
    }
    for (;;) {
      const at = this.pos;
      const name = this.parseLabel();
      this.skipWhitespace();
      if (this.peek() !== ':') this.fail(`expected ":" after field name "${name}" in a record type`);
      this.pos++;
      this.skipWhitespace();
      const type = this.parseType();
      if (fields.has(name)) this.fail(`duplicate field "${name}" in a record type`, at);
      fields.set(name, type);
      this.skipWhitespace();
      if (this.peek() === ',') {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      if (this.peek() === '}') {
        this.pos++;
        return { kind: 'Record', fields };
      }
      this.fail(`expected "," or "}" in the record type, found ${this.describeHere()}`);
    }
  }

  // ── lexical helpers ───────────────────────────────────────────────────────

  private parseLabel(): string {
    const c = this.peek();
    if (c === '`') {
      const close = this.src.indexOf('`', this.pos + 1);
      const body = close < 0 ? '' : this.src.slice(this.pos + 1, close);
      if (close < 0 || !/^[\x20-\x5F\x61-\x7E]*$/.test(body) || body.includes('\n')) this.fail('unterminated `quoted label`');
      this.pos = close + 1;
      return body;
    }
    if (c === undefined || !LABEL_START.test(c)) this.fail(`expected a field name, found ${this.describeHere()}`);
    const start = this.pos;
    this.pos++;
    while (this.pos < this.src.length && LABEL_CHAR.test(this.src[this.pos]!)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** Whitespace, `-- line` comments and nested `{- block -}` comments. */
  private skipWhitespace(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        this.pos++;
      } else if (c === '-' && this.src[this.pos + 1] === '-') {
        const eol = this.src.indexOf('\n', this.pos);
        this.pos = eol < 0 ? this.src.length : eol + 1;
      } else if (c === '{' && this.src[this.pos + 1] === '-') {
        this.skipBlockComment();
      } else {
        return;
      }
    }
  }

  private skipBlockComment(): void {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.src.length) {
      if (this.src.startsWith('{-', this.pos)) {
        depth++;
        this.pos += 2;
      } else if (this.src.startsWith('-}', this.pos)) {
        depth--;
        this.pos += 2;
        if (depth === 0) return;
      } else {
        this.pos++;
      }
    }
    this.fail('unterminated {- comment: missing "-}"', start);
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private expect(char: string, message: string): void {
    if (this.peek() !== char) this.fail(message);
    this.pos++;
  }

  private describeHere(): string {
    if (this.pos >= this.src.length) return 'the end of the file';
    const cp = this.src.codePointAt(this.pos)!;
    if (cp < 0x20 || cp === 0x7f) return `character U+${hex4(cp)}`;
    return `"${String.fromCodePoint(cp)}"`;
  }

  private lineColumn(offset: number): string {
    const { line, column } = lineColumnOf(this.src, offset);
    return `${line}:${column}`;
  }

  private fail(message: string, offset: number = this.pos): never {
    throw new DhallSyntaxError(message, offset);
  }
}

/** 1-based line and column (in UTF-16 units, as editors that count characters mostly agree). */
export function lineColumnOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}
