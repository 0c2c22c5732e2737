import { defaultConfig, type BinaryCacheConfig, type CachixConfig } from '../types.js';
import { DhallSyntaxError, type DhallType, type DhallValue, type RecordField } from './syntax.js';

/**
 * Gives the syntax tree its meaning: the real client evaluates `defaults // <file>` and
 * decodes it as `{ authToken : Text, hostname : Text, binaryCaches : List { name : Text,
 * secretKey : Text } }`, so any subset of the three fields is fine, anything else is not.
 */

const TEXT: DhallType = { kind: 'Text' };
export const CACHE_ENTRY_TYPE: DhallType = {
  kind: 'Record',
  fields: new Map([
    ['name', TEXT],
    ['secretKey', TEXT],
  ]),
};
const CACHE_LIST_TYPE: DhallType = { kind: 'List', element: CACHE_ENTRY_TYPE };
const CONFIG_FIELD_TYPES = new Map<string, DhallType>([
  ['authToken', TEXT],
  ['hostname', TEXT],
  ['binaryCaches', CACHE_LIST_TYPE],
]);

export const ENTRY_TYPE_TEXT = 'List { name : Text, secretKey : Text }';

export function decodeConfig(value: DhallValue): CachixConfig {
  if (value.kind !== 'record') {
    fail('the config must be a record such as { authToken = "…", hostname = "…", binaryCaches = … }', value.at);
  }
  const fields = uniqueFields(value.fields, 'the config');
  const config = defaultConfig();
  const presentTypes = new Map<string, DhallType>();
  for (const field of fields) {
    const type = CONFIG_FIELD_TYPES.get(field.name);
    if (type === undefined) {
      fail(`unknown field "${field.name}" (the config has only authToken, hostname and binaryCaches)`, field.at);
    }
    presentTypes.set(field.name, type);
    if (field.name === 'authToken') config.authToken = decodeText(field.value, 'authToken');
    else if (field.name === 'hostname') config.hostname = decodeText(field.value, 'hostname');
    else config.binaryCaches = decodeCaches(field.value);
  }
  checkAnnotations(value, { kind: 'Record', fields: presentTypes }, 'the config record');
  return config;
}

function decodeText(value: DhallValue, what: string): string {
  if (value.kind !== 'text') fail(`${what} must be a "text" value, found a ${value.kind}`, value.at);
  checkAnnotations(value, TEXT, what);
  return value.value;
}

function decodeCaches(value: DhallValue): BinaryCacheConfig[] {
  if (value.kind !== 'list') fail(`binaryCaches must be a list such as [ { name = "…", secretKey = "…" } ], found a ${value.kind}`, value.at);
  if (value.items.length === 0 && value.annotations.length === 0) {
    fail(`an empty list needs its type: write [] : ${ENTRY_TYPE_TEXT}`, value.at);
  }
  checkAnnotations(value, CACHE_LIST_TYPE, 'binaryCaches');
  return value.items.map(decodeCacheEntry);
}

function decodeCacheEntry(value: DhallValue): BinaryCacheConfig {
  if (value.kind !== 'record') fail(`each binaryCaches entry must be a record { name = "…", secretKey = "…" }, found a ${value.kind}`, value.at);
  const fields = uniqueFields(value.fields, 'a binaryCaches entry');
  let name: string | undefined;
  let secretKey: string | undefined;
  for (const field of fields) {
    if (field.name === 'name') name = decodeText(field.value, 'name');
    else if (field.name === 'secretKey') secretKey = decodeText(field.value, 'secretKey');
    else fail(`unknown field "${field.name}" in a binaryCaches entry (expected only name and secretKey)`, field.at);
  }
  if (name === undefined) fail('binaryCaches entry is missing its "name" field', value.at);
  if (secretKey === undefined) fail('binaryCaches entry is missing its "secretKey" field', value.at);
  checkAnnotations(value, CACHE_ENTRY_TYPE, 'the binaryCaches entry');
  return { name, secretKey };
}

function uniqueFields(fields: RecordField[], where: string): RecordField[] {
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field.name)) fail(`duplicate field "${field.name}" in ${where}`, field.at);
    seen.add(field.name);
  }
  return fields;
}

/** Every `: T` written after a value must be exactly the type the value has. */
function checkAnnotations(value: DhallValue, actual: DhallType, what: string): void {
  for (const annotation of value.annotations) {
    if (!sameType(annotation.type, actual)) {
      fail(`the type annotation of ${what} is ${showType(annotation.type)}, but it must be ${showType(actual)}`, annotation.at);
    }
  }
}

export function sameType(a: DhallType, b: DhallType): boolean {
  if (a.kind === 'Text' || b.kind === 'Text') return a.kind === b.kind;
  if (a.kind === 'List') return b.kind === 'List' && sameType(a.element, b.element);
  if (b.kind !== 'Record' || a.fields.size !== b.fields.size) return false;
  for (const [name, type] of a.fields) {
    const other = b.fields.get(name);
    if (other === undefined || !sameType(type, other)) return false;
  }
  return true;
}

export function showType(type: DhallType): string {
  if (type.kind === 'Text') return 'Text';
  if (type.kind === 'List') return `List ${type.element.kind === 'List' ? `(${showType(type.element)})` : showType(type.element)}`;
  if (type.fields.size === 0) return '{}';
  return `{ ${[...type.fields].map(([name, t]) => `${name} : ${showType(t)}`).join(', ')} }`;
}

function fail(message: string, offset: number): never {
  throw new DhallSyntaxError(message, offset);
}
