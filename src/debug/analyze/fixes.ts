/** One suggested fix per message code (and, for IST0101, per kind of reference), for `trellis analyze`. */

const byCode: Record<string, string> = {
  IST0109: 'merge the VirtualServices for this host into one, or give them hosts or exportTo scopes that do not overlap.',
  IST0118: 'name the port for its protocol ("http", "http-web", "grpc", "tcp", "tls", ...), or set appProtocol; otherwise Istio has to guess it.',
  IST0150: 'name the ExternalName service\'s port for its protocol ("tls", "http", ...), not "tcp", or set appProtocol.',
  TRL0001: 'keep one PeerAuthentication without a selector in this namespace and fold the others into it.',
  TRL0002: 'give these PeerAuthentications selectors that do not overlap, or merge them into one (portLevelMtls sets per-port modes).',
  IST0106: 'correct the field as the message says; the object is not applied until it validates.',
  CONFIG_PARSE: 'correct the YAML at this line; nothing in the document is applied until it parses.',
  CONFIG_CONFLICT: 'rename one of the two objects, or delete the duplicate.',
};

export function suggestedFix(code: string, message: string): string {
  if (code === 'IST0101') {
    if (message.includes('subset')) return 'define the subset in a DestinationRule for the host (its labels must select pods), or route to a subset that exists.';
    if (message.includes('host:port')) return 'route to a port the service declares, or add the port to the service.';
    return 'create the Service or ServiceEntry the route names, or correct the host (a short name is looked up in the VirtualService\'s namespace).';
  }
  return byCode[code] ?? 'see the message.';
}
