/** Wire types of the Cachix HTTP API v1 (spec §1.5, §5, §6, §9). Field names are the wire's. */

export type Permission = 'Read' | 'Write' | 'Admin';
export type CompressionMethodJson = 'XZ' | 'ZSTD';

export interface BinaryCache {
  name: string;
  uri: string;
  isPublic: boolean;
  publicSigningKeys: string[];
  githubUsername: string;
  permission: Permission;
  preferredCompressionMethod: CompressionMethodJson;
}

export interface MultipartUploadCreated {
  narId: string;
  uploadId: string;
}

export interface PartUploadUrl {
  uploadUrl: string;
}

export interface CompletedPart {
  partNumber: number;
  eTag: string;
}

/** spec §6.6 — the real client's Haskell-derived names. */
export interface NarInfoCreate {
  cStoreHash: string;
  cStoreSuffix: string;
  cNarHash: string;
  cNarSize: number;
  cFileHash: string;
  cFileSize: number;
  cReferences: string[];
  cDeriver: string;
  cSig: string | null;
}

export interface CompleteMultipartUpload {
  parts: CompletedPart[] | null;
  narInfoCreate: NarInfoCreate;
}

/** spec §5: the historical `POST /api/v1/cache/{name}` body. */
export interface BinaryCacheCreate {
  publicSigningKey: string;
  isPublic: boolean;
  githubOrganization: string | null;
  githubTeamId: number | null;
}

export interface SigningKeyCreate {
  publicKey: string;
}

/** Query-string spelling of compression methods. */
export type CompressionQuery = 'xz' | 'zst';

/**
 * How long a pin is kept (spec §8): Aeson's tagged encoding of the real client's
 * `Keep` type. `null` in PinCreate means the cache's default retention.
 */
export type PinKeep = { tag: 'Days'; contents: number } | { tag: 'Revisions'; contents: number } | { tag: 'Forever' };

/** spec §8/§9: the `POST /api/v1/cache/{name}/pin` body. */
export interface PinCreate {
  name: string;
  storePath: string;
  /** Paths of files inside the store path, as the user gave them (a leading `/` allowed). */
  artifacts: string[];
  keep: PinKeep | null;
}

/** `deploy activate`'s spec file and request body (spec §8): agent name → store path to activate. */
export interface DeployRequest {
  agents: Record<string, string>;
  /** Passed through as the spec file has it. */
  rollbackScript?: unknown;
}

/** POST /api/v2/deploy/activate: per agent, the deployment's id and its dashboard page. */
export interface DeployResponse {
  agents: Record<string, { id: string; url: string }>;
}

export type DeploymentStatus = 'Pending' | 'InProgress' | 'Cancelled' | 'Failed' | 'Succeeded';

/** GET /api/v1/deploy/deployment/{uuid} (the fields the client uses). */
export interface Deployment {
  id: string;
  status: DeploymentStatus;
  storePath: string | undefined;
}
