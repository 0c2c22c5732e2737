/**
 * Cachix Deploy, as far as `deploy activate` sees it: activation tokens, agents whose
 * deployments go through a scripted list of statuses (one step per status query), and a
 * record of every activation.
 */
import { randomUUID } from 'node:crypto';
import type { DeploymentStatus } from '../../../src/api/types.js';

export interface DeploymentRecord {
  id: string;
  agent: string;
  storePath: string;
  index: number;
  createdOn: string;
  /** The statuses still to report; the last one stays. */
  script: DeploymentStatus[];
  status: DeploymentStatus;
  /** The activation log's lines, its closing line included. */
  log: string[];
}

export class DeployState {
  readonly tokens = new Set<string>();
  /** Each activation's body, as received. */
  readonly activations: unknown[] = [];
  readonly deployments = new Map<string, DeploymentRecord>();
  /** Each log view opened over the websocket: the deployment and the Authorization it came with. */
  readonly logViews: { id: string; authorization: string | undefined }[] = [];
  private readonly agents = new Map<string, { statuses: DeploymentStatus[]; log: string[] }>();
  private index = 0;

  /** An agent of the workspace; its deployments report `statuses` one per query (default: straight to Succeeded). */
  addAgent(name: string, statuses: DeploymentStatus[] = ['Pending', 'InProgress', 'Succeeded'], log: string[] = []): void {
    this.agents.set(name, { statuses, log });
  }

  hasAgent(name: string): boolean {
    return this.agents.has(name);
  }

  start(agent: string, storePath: string): DeploymentRecord {
    const { statuses, log } = this.agents.get(agent)!;
    const script = [...statuses];
    // The agent ends its log with one of these (the real client reads until it sees them).
    const last = script[script.length - 1];
    const closing = last === 'Succeeded' ? ['Successfully activated the deployment'] : last === 'Failed' ? ['Failed to activate the deployment'] : [];
    const record: DeploymentRecord = {
      id: randomUUID(),
      agent,
      storePath,
      index: ++this.index,
      createdOn: new Date().toISOString(),
      script,
      status: script[0] ?? 'Pending',
      log: [`Activating ${storePath}`, ...log, ...closing],
    };
    this.deployments.set(record.id, record);
    return record;
  }

  /** The next status of a deployment's script (queries drive the clock). */
  advance(record: DeploymentRecord): DeploymentStatus {
    record.status = record.script.length > 1 ? record.script.shift()! : record.script[0]!;
    return record.status;
  }
}
