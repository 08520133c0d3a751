/**
 * Fetching an image named by an http(s) URL, for a server that enabled it. Guards against SSRF:
 * only allowlisted host names; every resolved address judged by an AddressPolicy, and the
 * connection made to exactly the address that was judged (no second resolution an attacker's DNS
 * could answer differently); redirects followed only within the same host and re-judged; size
 * and time bounded.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { ConfigError, InputError, LimitError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { AddressPolicy } from './address-policy.js';

export interface ImageUrlOptions {
  /** Host names that may be fetched: exact names, `*.example.com` for subdomains, or `*` for any. */
  readonly allowHosts: readonly string[];
  /** Internal addresses (CIDR) that may be reached anyway, e.g. `10.1.0.0/16` for a private image store. */
  readonly allowAddresses?: readonly string[];
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  readonly maxRedirects?: number;
  /** Name resolution (default: the system's `dns.lookup`). */
  readonly lookup?: typeof dnsLookup;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class ImageUrlFetcher {
  private readonly policy: AddressPolicy;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly resolve: typeof dnsLookup;

  constructor(private readonly options: ImageUrlOptions) {
    if (options.allowHosts.length === 0) throw new ConfigError('image URLs need at least one allowed host (use "*" for any public host)');
    for (const host of options.allowHosts)
      if (!/^(\*|(\*\.)?[a-z0-9.-]+|\[[0-9a-f:.]+\])$/i.test(host)) throw new ConfigError(`allowed image host "${host}" must be a host name, *.domain or *`);
    this.policy = new AddressPolicy(options.allowAddresses);
    this.maxBytes = options.maxBytes ?? LIMITS.maxImageUrlBytes;
    this.timeoutMs = options.timeoutMs ?? LIMITS.imageUrlTimeoutSeconds * 1000;
    this.maxRedirects = options.maxRedirects ?? LIMITS.maxImageUrlRedirects;
    this.resolve = options.lookup ?? dnsLookup;
  }

  /** The image's bytes; `name` is how errors name the input (e.g. `input[2] (image)`). */
  async fetch(url: string, name: string, signal?: AbortSignal): Promise<Uint8Array> {
    let current = this.parse(url, name);
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
    for (let redirects = 0; ; redirects++) {
      const answer = await this.get(current, name, abort).catch((err: unknown) => {
        if (deadline.aborted)
          throw new LimitError(name, 'image URL fetch time (ms)', this.timeoutMs, this.timeoutMs, `${current.href} did not answer in time`);
        throw err;
      });
      if (answer.kind === 'body') return answer.bytes;
      if (redirects >= this.maxRedirects) throw new LimitError(name, 'image URL redirects', redirects + 1, this.maxRedirects, url);
      const next = this.parse(new URL(answer.location, current).href, name);
      if (!sameHost(current, next)) throw new InputError(name, `${current.href} redirects to another host (${next.host}); only same-host redirects are followed`);
      current = next;
    }
  }

  private parse(raw: string, name: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new InputError(name, `"${raw.slice(0, 200)}" is not a URL or data URI`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(name, `image URL scheme ${url.protocol} is not allowed (http or https)`);
    if (url.username || url.password) throw new InputError(name, 'image URLs with credentials are not allowed');
    const host = url.hostname.toLowerCase();
    if (!this.options.allowHosts.some((pattern) => hostMatches(host, pattern.toLowerCase())))
      throw new InputError(name, `image host ${host} is not in the allowed hosts (${this.options.allowHosts.join(', ')})`);
    return url;
  }

  /** One GET, connecting only to a judged address. */
  private get(url: URL, name: string, signal: AbortSignal): Promise<{ kind: 'body'; bytes: Uint8Array } | { kind: 'redirect'; location: string }> {
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal)) {
      const refusal = this.policy.refusal(literal);
      if (refusal) return Promise.reject(new InputError(name, `${url.href} refused: ${refusal}`));
    }
    // Node calls this instead of its own resolution and connects to what it hands back.
    const guardedLookup: LookupFunction = (hostname, options, callback) => {
      this.resolve(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 0);
        const list = addresses as unknown as LookupAddress[];
        const refused = list.map((a) => this.policy.refusal(a.address)).find((r) => r !== undefined);
        if (refused || list.length === 0) return callback(new InputError(name, `${url.href} refused: ${hostname} resolves to ${refused ?? 'no address'}`), '', 0);
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
        const first = list[0]!;
        callback(null, first.address, first.family);
      });
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'GET', lookup: guardedLookup, agent: false, signal, headers: { accept: 'image/*' } }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (REDIRECTS.has(status)) {
          res.resume();
          const location = res.headers.location;
          return location ? resolve({ kind: 'redirect', location }) : reject(new InputError(name, `${url.href} answered ${status} without a Location`));
        }
        if (status !== 200) {
          res.resume();
          return reject(new InputError(name, `${url.href} answered HTTP ${status}`));
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxBytes) {
          reject(new LimitError(name, 'image URL bytes', declared, this.maxBytes, url.href));
          return void res.destroy();
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBytes) {
            // Reject before destroying: destroying emits 'aborted' at once, which must not win.
            reject(new LimitError(name, 'image URL bytes', size, this.maxBytes, `${url.href}; stopped reading there`));
            res.destroy();
          } else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => resolve({ kind: 'body', bytes: new Uint8Array(Buffer.concat(chunks)) }));
        res.on('aborted', () => reject(new InputError(name, `${url.href}: the connection closed early`)));
      });
      req.on('error', (err) => reject(err instanceof InputError ? err : signal.aborted ? signal.reason : new InputError(name, `${url.href}: ${err.message}`)));
      req.end();
    });
  }
}

function hostMatches(host: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return host === pattern.replace(/^\[|\]$/g, '') || host === pattern;
}

/** Same host and port; an upgrade from http to https on the same host name counts as the same. */
function sameHost(from: URL, to: URL): boolean {
  if (from.hostname.toLowerCase() !== to.hostname.toLowerCase()) return false;
  if (from.protocol === to.protocol) return from.port === to.port;
  return from.protocol === 'http:' && to.protocol === 'https:' && from.port === '' && to.port === '';
}
