/** The messages between the cluster's primary and its workers (besides prom-client's own): metrics requests. */
export const METRICS_REQUEST = 'origin:metrics-request';
export const METRICS_REPLY = 'origin:metrics-reply';

export interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}

export interface MetricsReply {
  type: typeof METRICS_REPLY;
  id: number;
  text?: string;
  error?: string;
}
