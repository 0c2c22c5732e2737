import type { BinaryCache, DeployResponse, Deployment, DeploymentStatus, MultipartUploadCreated, PartUploadUrl } from './types.js';

/** Shape checks for API answers: a wrong shape is a clear error, not a crash deep inside. */
export class ShapeError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectString(obj: Record<string, unknown>, key: string, what: string): string {
  const value = obj[key];
  if (typeof value !== 'string') throw new ShapeError(`${what}: "${key}" is missing or not a string`);
  return value;
}

export function asBinaryCache(value: unknown): BinaryCache {
  const what = 'cache description';
  if (!isObject(value)) throw new ShapeError(`${what} is not a JSON object`);
  const keys = value.publicSigningKeys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new ShapeError(`${what}: "publicSigningKeys" is not a list of strings`);
  }
  if (typeof value.isPublic !== 'boolean') throw new ShapeError(`${what}: "isPublic" is missing or not a boolean`);
  const permission = expectString(value, 'permission', what);
  if (permission !== 'Read' && permission !== 'Write' && permission !== 'Admin') {
    throw new ShapeError(`${what}: unknown permission "${permission}"`);
  }
  const preferred = expectString(value, 'preferredCompressionMethod', what);
  if (preferred !== 'XZ' && preferred !== 'ZSTD') throw new ShapeError(`${what}: unknown compression "${preferred}"`);
  return {
    name: expectString(value, 'name', what),
    uri: expectString(value, 'uri', what),
    isPublic: value.isPublic,
    publicSigningKeys: keys as string[],
    githubUsername: expectString(value, 'githubUsername', what),
    permission,
    preferredCompressionMethod: preferred,
  };
}

export function asStringArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ShapeError(`${what} is not a list of strings`);
  return value as string[];
}

export function asMultipartCreated(value: unknown): MultipartUploadCreated {
  const what = 'multipart upload';
  if (!isObject(value)) throw new ShapeError(`${what} is not a JSON object`);
  return { narId: expectString(value, 'narId', what), uploadId: expectString(value, 'uploadId', what) };
}

export function asPartUploadUrl(value: unknown): PartUploadUrl {
  const what = 'part upload URL';
  if (!isObject(value)) throw new ShapeError(`${what} is not a JSON object`);
  return { uploadUrl: expectString(value, 'uploadUrl', what) };
}

export function asDeployResponse(value: unknown): DeployResponse {
  const what = 'deploy activation answer';
  if (!isObject(value) || !isObject(value.agents)) throw new ShapeError(`${what}: "agents" is missing or not an object`);
  const agents: DeployResponse['agents'] = {};
  for (const [name, entry] of Object.entries(value.agents)) {
    if (!isObject(entry)) throw new ShapeError(`${what}: agent "${name}" is not an object`);
    agents[name] = { id: expectString(entry, 'id', `${what} for ${name}`), url: expectString(entry, 'url', `${what} for ${name}`) };
  }
  return { agents };
}

const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['Pending', 'InProgress', 'Cancelled', 'Failed', 'Succeeded'];

export function asDeployment(value: unknown): Deployment {
  const what = 'deployment';
  if (!isObject(value)) throw new ShapeError(`${what} is not a JSON object`);
  const status = expectString(value, 'status', what);
  if (!(DEPLOYMENT_STATUSES as readonly string[]).includes(status)) throw new ShapeError(`${what}: unknown status "${status}"`);
  return { id: expectString(value, 'id', what), status: status as DeploymentStatus, storePath: typeof value.storePath === 'string' ? value.storePath : undefined };
}
