/**
 * `trellis ztunnel-config VERB [POD]`: what a node proxy knows, from its
 * /config_dump, as istioctl ztunnel-config prints it: workloads, services,
 * policies, certificates (short tables, or the selected items as JSON/YAML)
 * and all (every table; -o json|yaml: the whole dump). Resolves with the
 * exit code.
 */
import { formatTable, type Row } from '../format/table.js';
import { structured, type Write } from '../output.js';
import { loadConfigDump } from '../proxy-config/target.js';
import { CERTIFICATES_HEADER, CERTIFICATES_PADDING, certificateRows } from './certificates-table.js';
import { parseZtunnelDump, type ZtunnelDump } from './dump.js';
import {
  POLICIES_HEADER, policyRows, selectedPolicies, selectedServices, selectedWorkloads, SERVICES_HEADER, serviceRows, TABLE_PADDING, WORKLOADS_HEADER, workloadRows, type WorkloadFilter,
} from './tables.js';
import type { ZtunnelTarget } from './target.js';

export const ZTUNNEL_VERBS = ['workloads', 'services', 'policies', 'certificates', 'all'] as const;
export type ZtunnelVerb = (typeof ZTUNNEL_VERBS)[number];

export interface ZtunnelConfigOptions {
  verb: ZtunnelVerb;
  target: ZtunnelTarget;
  output: 'short' | 'json' | 'yaml';
  workloads: WorkloadFilter;
  serviceNamespace?: string;
  policyNamespace?: string;
  /** all: a "------ WORKLOAD INFO ------" line before each table. */
  withHeaders?: boolean;
  now?: number;
}

export async function ztunnelConfig(o: ZtunnelConfigOptions, write: Write): Promise<number> {
  const raw = await loadConfigDump(o.target);
  const dump = parseZtunnelDump(raw, o.target.label);
  // A workload pod named on the command line narrows the workloads to it (istioctl's TargetWorkload).
  const workloads = o.target.workload ? { ...o.workloads, ...o.target.workload } : o.workloads;
  if (o.output !== 'short') {
    write(structured(selection(o.verb, dump, raw, { ...o, workloads }), o.output));
    return 0;
  }
  write(o.verb === 'all' ? allSummary(dump, o) : summary(o.verb, dump, { ...o, workloads }));
  return 0;
}

function summary(verb: Exclude<ZtunnelVerb, 'all'>, d: ZtunnelDump, o: ZtunnelConfigOptions): string {
  const table = (header: Row, rows: Row[], padding = TABLE_PADDING) => formatTable([header, ...rows], padding);
  switch (verb) {
    case 'workloads': return table(WORKLOADS_HEADER, workloadRows(d, o.workloads));
    case 'services': return table(SERVICES_HEADER, serviceRows(d, o.serviceNamespace));
    case 'policies': return table(POLICIES_HEADER, policyRows(d, o.policyNamespace));
    case 'certificates': return table(CERTIFICATES_HEADER, certificateRows(d, o.now ?? Date.now()), CERTIFICATES_PADDING);
  }
}

/**
 * istioctl's PrintFullSummary: each table after an empty line, unfiltered.
 * Its last section, CONNECTIONS INFO, is left out: the node proxy's dump
 * lists no connections (ARCHITECTURE.md).
 */
function allSummary(d: ZtunnelDump, o: ZtunnelConfigOptions): string {
  const sections: [string, Exclude<ZtunnelVerb, 'all'>][] = [['WORKLOAD INFO', 'workloads'], ['SERVICE INFO', 'services'], ['POLICY INFO', 'policies'], ['SECRET INFO', 'certificates']];
  const all = { ...o, workloads: {}, serviceNamespace: undefined, policyNamespace: undefined };
  return sections.map(([title, verb]) => `\n${o.withHeaders ? `------ ${title} ------\n\n` : ''}${summary(verb, d, all)}`).join('');
}

function selection(verb: ZtunnelVerb, d: ZtunnelDump, raw: unknown, o: ZtunnelConfigOptions): unknown {
  switch (verb) {
    case 'workloads': return selectedWorkloads(d, o.workloads);
    case 'services': return selectedServices(d, o.serviceNamespace);
    case 'policies': return selectedPolicies(d, o.policyNamespace);
    case 'certificates': return d.certificates;
    case 'all': return raw;
  }
}
