/**
 * Writes what the rest of the world reads about the running mesh, a few
 * milliseconds after it changes (bursts coalesced): RUN/cluster/pods.yaml
 * (the control plane's view of the pods), RUN/services.json (`trellis get
 * services`) and the state file (the CLI's way in). Every file is replaced
 * atomically (temp file + rename), so a reader never sees half of one.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Service } from '../../config/objects.js';
import { errorMessage } from '../../errors.js';
import { logger } from '../../log.js';
import { writeStateFile, type MeshState } from '../state-file.js';
import type { PodSnapshot } from './pod-objects.js';
import { podObject } from './pod-objects.js';
import { runFiles } from './run-dir.js';

const log = logger('up');

export interface PublishSource {
  snapshots(): PodSnapshot[];
  services(): Service[];
  /** The state file's content, or undefined until the mesh serves. */
  state(): MeshState | undefined;
}

export function atomicWrite(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

export class Publisher {
  readonly #run: string;
  readonly #source: PublishSource;
  readonly #stateFile: string;
  readonly #createdAt = new Date().toISOString();
  #timer: NodeJS.Timeout | undefined;
  #last = { pods: '', services: '', state: '' };
  #closed = false;

  constructor(run: string, source: PublishSource, stateFile: string) {
    this.#run = run;
    this.#source = source;
    this.#stateFile = stateFile;
  }

  /** Schedules a write (coalesced over 20 ms). */
  changed(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, 20);
  }

  /** Writes now whatever differs from the last write. */
  flush(): void {
    if (this.#closed) return;
    try {
      const pods = this.#source.snapshots().filter((p) => p.ip !== undefined).map(podObject);
      const podsText = pods.length === 0 ? '# no pods yet\n' : pods.map((p) => stringify(p)).join('---\n');
      if (podsText !== this.#last.pods) atomicWrite(runFiles.pods(this.#run), (this.#last.pods = podsText));
      const services = this.#source.services().map((s) => ({ apiVersion: 'v1', kind: 'Service', metadata: { ...s.metadata, creationTimestamp: this.#createdAt }, spec: s.spec }));
      const servicesText = JSON.stringify(services, null, 2) + '\n';
      if (servicesText !== this.#last.services) atomicWrite(runFiles.services(this.#run), (this.#last.services = servicesText));
      const state = this.#source.state();
      const stateText = state ? JSON.stringify(state) : '';
      if (state && stateText !== this.#last.state) {
        writeStateFile(state, this.#stateFile);
        this.#last.state = stateText;
      }
    } catch (err) {
      log.error('cannot publish the mesh state', { error: errorMessage(err) });
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}
