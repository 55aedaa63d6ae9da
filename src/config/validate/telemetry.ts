/**
 * telemetry.istio.io Telemetry, with the rules of Istio's CRD and
 * ValidateTelemetry beyond field types, in Istio's wording where it has one.
 */
import { duration, topLevel } from './common.js';
import { arr, bool, enumOf, map, num, obj, req, str, type Issue, type ObjectSchema } from './schema.js';
import { oneSelectorCheck } from './authz-checks.js';
import { targetRef, workloadSelector } from './security.js';

/** The Istio standard metrics a metrics override can name (MetricSelector.IstioMetric). */
export const istioMetrics = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS', 'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
] as const;

const atLeastOneChar = (s: string) => (s.length === 0 ? 'should be at least 1 chars long' : undefined);
const providers = () => arr(obj({ name: req(str({ check: atLeastOneChar })) }));
const workloadMode = () => obj({ mode: enumOf('CLIENT', 'SERVER', 'CLIENT_AND_SERVER') });

function tagOverrideCheck(v: Record<string, unknown>): Issue[] {
  const remove = v['operation'] === 'REMOVE';
  if (!remove && v['value'] === undefined) return [{ path: [], message: 'value must be set when operation is UPSERT' }];
  if (remove && v['value'] !== undefined) return [{ path: ['value'], message: 'value must not be set when operation is REMOVE' }];
  return [];
}

const metricSelector = obj(
  { metric: enumOf(...istioMetrics), customMetric: str({ check: atLeastOneChar }), mode: enumOf('CLIENT', 'SERVER', 'CLIENT_AND_SERVER') },
  (v) => (v['metric'] !== undefined && v['customMetric'] !== undefined ? [{ path: ['customMetric'], message: 'only one of metric, customMetric may be set' }] : []),
);

const metrics = obj({
  providers: providers(),
  overrides: arr(obj({
    match: metricSelector,
    disabled: bool(),
    tagOverrides: map(obj({ operation: enumOf('UPSERT', 'REMOVE'), value: str() }, tagOverrideCheck)),
  })),
  reportingInterval: duration(),
});

const customTag = obj({
  literal: obj({ value: req(str()) }),
  environment: obj({ name: req(str()), defaultValue: str() }),
  header: obj({ name: req(str()), defaultValue: str() }),
  formatter: obj({ value: req(str()) }),
});

const tracing = obj({
  match: workloadMode(),
  providers: providers(),
  customTags: map(customTag),
  randomSamplingPercentage: num(0, 100),
  disableSpanReporting: bool(),
  useRequestIdForTraceSampling: bool(),
  enableIstioTags: bool(),
});

const accessLogging = obj({
  match: workloadMode(),
  providers: providers(),
  disabled: bool(),
  filter: obj({ expression: str() }),
});

const telemetrySpec = obj(
  {
    selector: workloadSelector(),
    targetRef: targetRef(),
    targetRefs: arr(targetRef()),
    tracing: arr(tracing),
    metrics: arr(metrics),
    accessLogging: arr(accessLogging),
  },
  oneSelectorCheck,
);

export const telemetrySchema: ObjectSchema = topLevel({ spec: telemetrySpec });
