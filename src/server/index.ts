export { createMetrics, type Metrics, type DecodeErrorReason } from './metrics.js';
export { startOpsServer, readinessVerdict, type OpsServer, type OpsServerOptions, type ReadinessState, type Readiness } from './http.js';
export { consumerLag, type Lag } from './lag.js';
