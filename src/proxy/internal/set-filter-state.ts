/**
 * Envoy's set_filter_state (the HTTP filter's on_request_headers, the
 * network filter's on_new_connection): each entry formats a value with a
 * substitution format string and stores it under an object key, shared with
 * upstream as configured. istiod's waypoint uses it to carry a CONNECT's
 * :authority to the internal listener that serves the tunnel's inside
 * (envoy.filters.listener.original_dst.local_ip) and the peer identities.
 * Compiled once; the format commands Trellis knows are the ones those
 * configs use — any other is refused, never formatted as "-" silently.
 */
import type { FilterStateValue } from '../../gen/envoy/extensions/filters/common/set_filter_state/v3/value_pb.js';
import { FilterStateValue_SharedWithUpstream as Shared } from '../../gen/envoy/extensions/filters/common/set_filter_state/v3/value_pb.js';
import type { SubstitutionFormatString } from '../../gen/envoy/config/core/v3/substitution_format_string_pb.js';
import { parseHostPort } from '../../ztunnel/hbone/connect-request.js';
import { LOCAL_IP_KEY, REMOTE_IP_KEY, type FilterState, type Sharing } from './filter-state.js';

/** What a value may be made of, for one request or connection. */
export interface StateSource {
  /** Request headers (HTTP only; :authority among them); undefined on a connection. */
  header(name: string): string | undefined;
  downstreamLocal: string;
  downstreamRemote: string;
  peerUriSan: string;
  localUriSan: string;
  filterState: FilterState | undefined;
}

type Piece = string | ((s: StateSource) => string | undefined);

export interface FilterStateSetter {
  key: string;
  format: Piece[];
  sharing: Sharing;
  skipIfEmpty: boolean;
  /** Address objects (the original_dst keys) hold IP:port; anything else is not stored, as Envoy's factory refuses it. */
  address: boolean;
}

const STRING_FACTORY = 'envoy.string';
const ADDRESS_KEYS = new Set([LOCAL_IP_KEY, REMOTE_IP_KEY]);

const COMMANDS: Record<string, (s: StateSource) => string | undefined> = {
  DOWNSTREAM_LOCAL_ADDRESS: (s) => s.downstreamLocal,
  DOWNSTREAM_REMOTE_ADDRESS: (s) => s.downstreamRemote,
  DOWNSTREAM_PEER_URI_SAN: (s) => s.peerUriSan || undefined,
  DOWNSTREAM_LOCAL_URI_SAN: (s) => s.localUriSan || undefined,
};

/** A substitution format text: literals and the commands above, %REQ(name)% and %FILTER_STATE(key:PLAIN)%. */
export function compileStateFormat(text: string, path: string, errors: string[]): Piece[] {
  const out: Piece[] = [];
  const re = /%([A-Z_]+)(?:\(([^)]*)\))?%/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    const [, cmd, arg] = m;
    if (cmd === 'REQ' && arg) {
      const name = arg.toLowerCase();
      out.push((s) => s.header(name));
    } else if (cmd === 'FILTER_STATE' && arg && /^[^:]+(:PLAIN)?$/.test(arg)) {
      const key = arg.replace(/:PLAIN$/, '');
      out.push((s) => s.filterState?.get(key)?.value);
    } else if (COMMANDS[cmd] && arg === undefined) {
      out.push(COMMANDS[cmd]);
    } else {
      errors.push(`${path}: format command %${cmd}${arg !== undefined ? `(${arg})` : ''}% is not supported`);
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function formatText(f: SubstitutionFormatString | undefined, path: string, errors: string[]): string | undefined {
  const fmt = f?.format;
  if (fmt?.case === 'textFormat') return fmt.value;
  if (fmt?.case === 'textFormatSource' && fmt.value.specifier.case === 'inlineString') return fmt.value.specifier.value;
  errors.push(`${path}.format: only text_format and an inline text_format_source are supported (${fmt?.case ?? 'unset'})`);
  return undefined;
}

export function compileSetFilterState(values: readonly FilterStateValue[], path: string, errors: string[]): FilterStateSetter[] {
  return values.flatMap((v, i) => {
    const p = `${path}[${i}]`;
    if (v.key.case !== 'objectKey' || !v.key.value) {
      errors.push(`${p}.objectKey: missing`);
      return [];
    }
    const key = v.key.value;
    const address = ADDRESS_KEYS.has(key) && !v.factoryKey;
    // As Envoy: an object needs a factory, its key's own (the address keys) or the one named.
    if (!address && v.factoryKey !== STRING_FACTORY) {
      errors.push(`${p}.factoryKey: ${JSON.stringify(v.factoryKey || key)} has no object factory here (supported: ${[...ADDRESS_KEYS].join(', ')}, or factory_key ${STRING_FACTORY})`);
      return [];
    }
    if (v.value.case !== 'formatString') {
      errors.push(`${p}.formatString: missing`);
      return [];
    }
    const text = formatText(v.value.value, `${p}.formatString`, errors);
    if (text === undefined) return [];
    const sharing: Sharing = v.sharedWithUpstream === Shared.ONCE ? 'once' : v.sharedWithUpstream === Shared.TRANSITIVE ? 'transitive' : 'none';
    return [{ key, format: compileStateFormat(text, `${p}.formatString`, errors), sharing, skipIfEmpty: v.skipIfEmpty, address }];
  });
}

/** Formats each entry and stores it in `into` (created when needed); returns the state. */
export function applySetFilterState(setters: readonly FilterStateSetter[], source: StateSource, into: FilterState | undefined): FilterState | undefined {
  let state = into;
  for (const s of setters) {
    let value = '';
    for (const piece of s.format) value += typeof piece === 'string' ? piece : piece(source) ?? '';
    if (value === '' && s.skipIfEmpty) continue;
    if (s.address && !parseHostPort(value)) continue;
    state ??= new Map();
    state.set(s.key, { value, sharing: s.sharing });
  }
  return state;
}
