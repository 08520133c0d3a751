/**
 * `vbge serve`: the HTTP API and search page over one loaded model (and optionally an index).
 * Binds 127.0.0.1 unless told otherwise; request logs are JSON lines on stdout; SIGTERM/SIGINT
 * shut it down gracefully (exit 0).
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { Index } from '../index/index.js';
import { LIMITS } from '../limits.js';
import type { ServerLimits } from '../server/context.js';
import { ImageUrlFetcher } from '../server/image-url.js';
import { closeOnSignals } from '../server/shutdown.js';
import { addModelOptions, addRunOptions, type ModelCliOptions, resolveModelFiles } from './model-options.js';
import { parsePositiveInt, parseThreads } from './parse.js';

interface ServeOptions extends ModelCliOptions {
  index?: string;
  store?: string;
  host: string;
  port: string;
  apiKey?: string;
  imageUrlHosts?: string;
  imageUrlAllowAddresses?: string;
  maxBodyBytes?: string;
  maxItems?: string;
  maxQueue?: string;
  requestTimeout?: string;
  shutdownGrace?: string;
  threads?: string;
  batchSize?: string;
  quiet?: boolean;
}

export function registerServe(program: Command): void {
  addRunOptions(addModelOptions(program.command('serve').description('serve /v1/embeddings (OpenAI-compatible), /v1/search and the search page')))
    .option('--index <dir>', 'search this LanceDB index folder')
    .option('--store <url>', 'search this postgres:// index')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--api-key <key>', 'require Authorization: Bearer <key> on /v1/* (default: env VBGE_API_KEY)')
    .option('--image-url-hosts <hosts>', 'enable http(s) image URLs from these hosts (comma-separated; *.domain, or * for any public host)')
    .option('--image-url-allow-addresses <cidrs>', 'internal addresses image URLs may reach anyway (comma-separated CIDR ranges)')
    .option('--max-body-bytes <n>', `largest request body (default ${LIMITS.maxRequestBodyBytes})`)
    .option('--max-items <n>', `most inputs per request (default ${LIMITS.maxItemsPerRequest})`)
    .option('--max-queue <n>', `most inputs queued before 429 (default ${LIMITS.maxQueuedItems})`)
    .option('--request-timeout <s>', `longest a request may take, in seconds (default ${LIMITS.requestTimeoutSeconds})`)
    .option('--shutdown-grace <s>', `longest a shutdown waits for requests in flight, in seconds (default ${LIMITS.shutdownGraceSeconds})`)
    .option('--quiet', 'no request log lines')
    .action(async (opts: ServeOptions) => {
      process.exitCode = await runServe(opts);
    });
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** The limits the user set; the others keep their defaults. */
function definedOnly(limits: { [K in keyof ServerLimits]?: number | undefined }): Partial<ServerLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

function checkOptions(opts: ServeOptions) {
  if (opts.index !== undefined && opts.store !== undefined) throw new ConfigError('give --index or --store, not both');
  const port = Number(opts.port);
  if (!/^\d+$/.test(opts.port) || port > 65535) throw new ConfigError(`--port must be 0..65535; got "${opts.port}"`);
  const int = (value: string | undefined, option: string): number | undefined => (value === undefined ? undefined : parsePositiveInt(value, option));
  const seconds = (value: string | undefined, option: string): number | undefined => {
    if (value === undefined) return undefined;
    const s = Number(value);
    if (!Number.isFinite(s) || s <= 0) throw new ConfigError(`${option} must be a positive number of seconds; got "${value}"`);
    return s * 1000;
  };
  const hosts = list(opts.imageUrlHosts);
  if (opts.imageUrlAllowAddresses !== undefined && hosts === undefined) throw new ConfigError('--image-url-allow-addresses needs --image-url-hosts');
  const imageUrls = hosts === undefined ? undefined : { allowHosts: hosts, allowAddresses: list(opts.imageUrlAllowAddresses) };
  if (imageUrls) new ImageUrlFetcher(imageUrls); // checks hosts and ranges before the model loads
  return {
    port,
    threads: opts.threads === undefined ? undefined : parseThreads(opts.threads),
    batchSize: int(opts.batchSize, '--batch-size'),
    limits: definedOnly({
      maxRequestBodyBytes: int(opts.maxBodyBytes, '--max-body-bytes'),
      maxItemsPerRequest: int(opts.maxItems, '--max-items'),
      maxQueuedItems: int(opts.maxQueue, '--max-queue'),
      requestTimeoutMs: seconds(opts.requestTimeout, '--request-timeout'),
    }),
    graceMs: seconds(opts.shutdownGrace, '--shutdown-grace') ?? LIMITS.shutdownGraceSeconds * 1000,
    imageUrls,
  };
}

export async function runServe(opts: ServeOptions): Promise<number> {
  const checked = checkOptions(opts);
  const apiKey = opts.apiKey ?? process.env['VBGE_API_KEY'];
  if (apiKey !== undefined && apiKey.length === 0) throw new ConfigError('--api-key / VBGE_API_KEY is empty');
  const files = await resolveModelFiles(opts);
  const [{ Encoder }, { createServer, modelNames }] = await Promise.all([import('../encoder.js'), import('../server/app.js')]);
  const encoder = await Encoder.load({ ...files, threads: checked.threads, batchSize: checked.batchSize });
  const logLine = (event: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ time: Date.now(), service: 'vbge', ...event })}\n`);
  const location = opts.index ?? opts.store;
  let index: Index | undefined;
  let server;
  try {
    // The index must have been built with this model: Index.open checks the provenance.
    if (location !== undefined) index = await Index.open({ location, encoder });
    server = await createServer({
      encoder,
      index,
      modelNames: modelNames({ model: opts.model, weights: files.weights }),
      apiKey,
      imageUrls: checked.imageUrls,
      limits: checked.limits,
      log: opts.quiet ? false : process.stdout,
    });
    await server.app.listen({ host: opts.host, port: checked.port });
  } catch (err) {
    await server?.app.close();
    await index?.close();
    await encoder.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL')
      throw new ConfigError(`cannot listen on ${opts.host}:${checked.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : 'no such local address'} (--host, --port)`, { cause: err });
    throw err;
  }
  const address = server.app.server.address();
  const url = typeof address === 'object' && address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  logLine({ event: 'listening', url, dim: encoder.dim, ...(index ? { index: index.location } : {}) });
  process.stderr.write(`vbge serve: listening on ${url} (page at ${url}/, API description at ${url}/docs)\n`);
  const handle = closeOnSignals(
    server.app,
    checked.graceMs,
    async () => {
      await index?.close();
      await encoder.close();
    },
    logLine,
  );
  await handle.done;
  return 0;
}
