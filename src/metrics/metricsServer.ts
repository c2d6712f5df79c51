import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { limitedServer, probeRoutes, routeRequests, type Handler, type HttpServerOptions, type Routes } from '../slack/httpServer.js';

/** `GET|HEAD /metrics`: `registry` in Prometheus text format, with its content type (a HEAD skips collecting). */
export function metricsRoutes(registry: Registry): Routes {
  const scrape: Handler = async (req, res) => {
    const body = req.method === 'HEAD' ? undefined : await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType }).end(body);
  };
  return { '/metrics': { GET: scrape, HEAD: scrape } };
}

export interface MetricsServerOptions extends Pick<HttpServerOptions, 'isDraining' | 'ready'> {
  registry: Registry;
  logger: Logger;
}

/**
 * The METRICS_PORT server, in either mode: `/metrics`, and `/healthz` and `/readyz` meaning what they mean on
 * PORT (httpServer.ts), so a Socket Mode bot, which has no HTTP server of its own, can be probed (Docker HEALTHCHECK).
 */
export function createMetricsServer({ registry, logger, ...probes }: MetricsServerOptions): Server {
  return limitedServer(routeRequests({ ...probeRoutes(probes), ...metricsRoutes(registry) }, logger), logger);
}
