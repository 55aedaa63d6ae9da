import type { Counter, Gauge, Metrics } from '../../controlplane/metrics/metrics.js';

/** The CA's metrics under istiod's names (security/pkg/server/ca/monitoring.go), so Citadel dashboards work. */
export interface CaMetrics {
  /** citadel_server_csr_count: CreateCertificate calls. */
  csr: Counter;
  /** citadel_server_authentication_failure_count: missing or refused tokens. */
  authnError: Counter;
  /** citadel_server_csr_parsing_err_count: requests whose CSR was refused (malformed, oversized, wrong key). */
  csrParsingError: Counter;
  /** citadel_server_id_extraction_err_count: CSRs asking for an identity the caller did not prove. */
  idError: Counter;
  /** citadel_server_csr_sign_err_count{error}: signing refused or failed after the CSR was read (TTL, CA problems). */
  signError: Counter;
  /** citadel_server_success_cert_issuance_count. */
  success: Counter;
  /** citadel_server_root_cert_expiry_timestamp: unix seconds when the first root expires. */
  rootExpiry: Gauge;
}

export function caMetrics(m: Metrics): CaMetrics {
  return {
    csr: m.counter('citadel_server_csr_count', 'The number of CSRs received by Citadel server.'),
    authnError: m.counter('citadel_server_authentication_failure_count', 'The number of authentication failures.'),
    csrParsingError: m.counter('citadel_server_csr_parsing_err_count', 'The number of errors occurred when parsing the CSR.'),
    idError: m.counter('citadel_server_id_extraction_err_count', 'The number of errors occurred when extracting the ID from CSR.'),
    signError: m.counter('citadel_server_csr_sign_err_count', 'The number of errors occurred when signing the CSR.', ['error']),
    success: m.counter('citadel_server_success_cert_issuance_count', 'The number of certificates issuances that have succeeded.'),
    rootExpiry: m.gauge('citadel_server_root_cert_expiry_timestamp', 'The unix timestamp, in seconds, when the root cert will expire.'),
  };
}
