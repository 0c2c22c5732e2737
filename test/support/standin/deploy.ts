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
}

export class DeployState {
  readonly tokens = new Set<string>();
  /** Each activation's body, as received. */
  readonly activations: unknown[] = [];
  readonly deployments = new Map<string, DeploymentRecord>();
  private readonly agents = new Map<string, DeploymentStatus[]>();
  private index = 0;

  /** An agent of the workspace; its deployments report `statuses` one per query (default: straight to Succeeded). */
  addAgent(name: string, statuses: DeploymentStatus[] = ['Pending', 'InProgress', 'Succeeded']): void {
    this.agents.set(name, statuses);
  }

  hasAgent(name: string): boolean {
    return this.agents.has(name);
  }

  start(agent: string, storePath: string): DeploymentRecord {
    const script = [...this.agents.get(agent)!];
    const record: DeploymentRecord = {
      id: randomUUID(),
      agent,
      storePath,
      index: ++this.index,
      createdOn: new Date().toISOString(),
      script,
      status: script[0] ?? 'Pending',
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
