/**
 * Prometheus metrics (prom-client), in a registry of the server's own so that several servers in
 * one process (tests) never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route'>;
  readonly batchSize: Histogram;
  readonly batchSeconds: Histogram;
  readonly itemsEmbedded: Counter<'kind'>;
  readonly rejections: Counter<'limit'>;
}

export function createMetrics(queueDepth: () => number): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vbge_' });
  const registers = [registry];
  new Gauge({ name: 'vbge_queue_depth', help: 'Inputs admitted and not yet answered (fetching, waiting or embedding)', registers, collect() { this.set(queueDepth()); } });
  return {
    registry,
    requests: new Counter({ name: 'vbge_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers }),
    duration: new Histogram({
      name: 'vbge_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    batchSize: new Histogram({ name: 'vbge_batch_inputs', help: 'Inputs per encoder call (requests coalesced)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers }),
    batchSeconds: new Histogram({ name: 'vbge_batch_duration_seconds', help: 'Time per encoder call', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers }),
    itemsEmbedded: new Counter({ name: 'vbge_items_embedded_total', help: 'Inputs embedded, by kind (text, image, composed)', labelNames: ['kind'], registers }),
    rejections: new Counter({ name: 'vbge_rejections_total', help: 'Requests or inputs refused, by the limit or check they failed', labelNames: ['limit'], registers }),
  };
}
