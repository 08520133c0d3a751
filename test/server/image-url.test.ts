/**
 * SSRF protection of image URLs, against real local servers: internal addresses are refused
 * whether written literally or reached through a name (judged on the resolved address, with no
 * connection made), redirects never leave the host or land on an internal address, and size and
 * time are bounded. Names like `img.test` resolve through a resolver the test controls, so the
 * tests need no network and show that the connection goes to the address that was checked.
 */
import type { LookupAddress, LookupAllOptions, lookup as dnsLookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { InputError, LimitError } from '../../src/errors.js';
import { AddressPolicy } from '../../src/server/address-policy.js';
import { ImageUrlFetcher, type ImageUrlOptions } from '../../src/server/image-url.js';
import { fixturePath } from '../helpers/fixtures.js';
import { loadTinyEncoder, localHttpServer, postJson, startServer } from './helpers.js';

const PNG = readFileSync(fixturePath('tiny-bert', '../images/synth_small_50x40.png'));

/** A resolver answering from a table; a name may get a different answer on each lookup (DNS rebinding). */
function fakeResolver(table: Record<string, string[]>): { lookup: typeof dnsLookup; calls: string[] } {
  const calls: string[] = [];
  const count = new Map<string, number>();
  const lookup = ((hostname: string, _options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
    calls.push(hostname);
    const answers = table[hostname];
    const n = count.get(hostname) ?? 0;
    count.set(hostname, n + 1);
    const address = answers?.[Math.min(n, answers.length - 1)];
    if (!address) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
  }) as unknown as typeof dnsLookup;
  return { lookup, calls };
}

let site: Awaited<ReturnType<typeof localHttpServer>>;
beforeAll(async () => {
  site = await localHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const to = url.searchParams.get('to');
    if (url.pathname === '/image.png') return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    if (url.pathname === '/redirect' && to) return void res.writeHead(302, { location: to }).end();
    if (url.pathname === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (url.pathname === '/big-declared') return void res.writeHead(200, { 'content-length': 5_000_000 }).end();
    if (url.pathname === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (let i = 0; i < 40; i++) res.write(chunk);
      return void res.end();
    }
    if (url.pathname === '/slow') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG.subarray(0, 10)); // then nothing
      return;
    }
    res.writeHead(404).end();
  });
});
afterAll(async () => site?.close());

const fetcher = (options: Partial<ImageUrlOptions>): ImageUrlFetcher => new ImageUrlFetcher({ allowHosts: ['*'], ...options });

async function refusal(f: ImageUrlFetcher, url: string): Promise<Error> {
  const err = await f.fetch(url, 'input[0].image').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, url).toBeInstanceOf(InputError);
  expect((err as Error).message.startsWith('input[0].image: ')).toBe(true);
  return err as Error;
}

describe('internal addresses are refused before any connection', () => {
  test('loopback, literally and through names', async () => {
    const before = site.hits();
    const f = fetcher({});
    expect((await refusal(f, `${site.url}/image.png`)).message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect((await refusal(f, `http://localhost:${site.port}/image.png`)).message).toMatch(/resolves to (127\.0\.0\.1|::1) is a loopback address/);
    expect((await refusal(f, `http://[::1]:${site.port}/image.png`)).message).toMatch(/::1 is a loopback address/);
    expect((await refusal(f, `http://[::ffff:127.0.0.1]:${site.port}/image.png`)).message).toMatch(/loopback/);
    expect((await refusal(fetcher({ lookup: fakeResolver({ 'img.test': ['127.0.0.1'] }).lookup }), `http://img.test:${site.port}/image.png`)).message).toMatch(
      /img\.test resolves to 127\.0\.0\.1 is a loopback address/,
    );
    expect(site.hits()).toBe(before);
  });

  test('private and link-local (cloud metadata) addresses', async () => {
    const { lookup } = fakeResolver({ 'files.test': ['10.1.2.3'], 'metadata.test': ['169.254.169.254'], 'v6.test': ['fe80::1'], 'ula.test': ['fd00::5'] });
    const f = fetcher({ lookup });
    expect((await refusal(f, 'http://10.0.0.1/a.png')).message).toMatch(/10\.0\.0\.1 is a private address/);
    expect((await refusal(f, 'http://192.168.1.10/a.png')).message).toMatch(/private/);
    expect((await refusal(f, 'http://172.20.0.1/a.png')).message).toMatch(/private/);
    expect((await refusal(f, 'http://169.254.169.254/latest/meta-data')).message).toMatch(/link-local/);
    expect((await refusal(f, 'http://[fe80::1]/a.png')).message).toMatch(/link-local/);
    expect((await refusal(f, 'http://files.test/a.png')).message).toMatch(/files\.test resolves to 10\.1\.2\.3 is a private address/);
    expect((await refusal(f, 'http://metadata.test/')).message).toMatch(/169\.254\.169\.254 is a link-local address/);
    expect((await refusal(f, 'http://v6.test/')).message).toMatch(/fe80::1 is a link-local address/);
    expect((await refusal(f, 'http://ula.test/')).message).toMatch(/unique local/);
  });

  test('hosts outside the allowlist are refused without even a lookup; other schemes and credentials too', async () => {
    const { lookup, calls } = fakeResolver({ 'img.test': ['127.0.0.1'] });
    const f = new ImageUrlFetcher({ allowHosts: ['*.example.com', 'img.test'], lookup });
    expect((await refusal(f, 'http://evil.test/a.png')).message).toMatch(/host evil\.test is not in the allowed hosts/);
    expect((await refusal(f, 'http://example.com.evil.test/a.png')).message).toMatch(/not in the allowed hosts/);
    expect((await refusal(f, 'file:///etc/passwd')).message).toMatch(/scheme file: is not allowed/);
    expect((await refusal(f, 'http://user:pw@img.test/a.png')).message).toMatch(/credentials/);
    expect(calls).toEqual([]);
  });

  test('an explicitly allowed internal range is reached, at the address that was checked', async () => {
    const { lookup, calls } = fakeResolver({ 'img.test': ['127.0.0.1'] });
    const f = fetcher({ lookup, allowAddresses: ['127.0.0.0/8'] });
    // img.test exists only in our resolver: the bytes arrive because the connection used its answer.
    const bytes = await f.fetch(`http://img.test:${site.port}/image.png`, 'img');
    expect(Buffer.from(bytes).equals(PNG)).toBe(true);
    expect(calls).toEqual(['img.test']);
  });

  test('the address policy: public addresses pass, bad allow entries are configuration errors', () => {
    const policy = new AddressPolicy();
    expect(policy.refusal('93.184.216.34')).toBeUndefined();
    expect(policy.refusal('2606:2800:220:1::1')).toBeUndefined();
    expect(policy.refusal('100.64.0.1')).toMatch(/carrier-grade NAT/);
    expect(policy.refusal('0.0.0.0')).toMatch(/this-network/);
    expect(() => new AddressPolicy(['10.0.0.0/33'])).toThrow(/must be an IP address or CIDR range/);
    expect(() => new AddressPolicy(['intranet'])).toThrow(/intranet/);
  });
});

describe('redirects', () => {
  test('a redirect to another host is refused, even to an allowed one', async () => {
    const { lookup } = fakeResolver({ 'img.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
    const f = fetcher({ lookup, allowAddresses: ['127.0.0.1'] });
    const to = encodeURIComponent(`http://other.test:${site.port}/image.png`);
    expect((await refusal(f, `http://img.test:${site.port}/redirect?to=${to}`)).message).toMatch(/redirects to another host \(other\.test/);
  });

  test('a redirect to an internal address is refused', async () => {
    const { lookup } = fakeResolver({ 'img.test': ['127.0.0.1'] });
    const f = fetcher({ lookup, allowAddresses: ['127.0.0.1'] });
    const to = encodeURIComponent('http://169.254.169.254/latest/meta-data');
    expect((await refusal(f, `http://img.test:${site.port}/redirect?to=${to}`)).message).toMatch(/redirects to another host \(169\.254\.169\.254\)/);
  });

  test('a same-host redirect is resolved and checked again (DNS rebinding to a private address is refused)', async () => {
    const { lookup, calls } = fakeResolver({ 'img.test': ['127.0.0.1', '10.0.0.7'] });
    const f = fetcher({ lookup, allowAddresses: ['127.0.0.1'] });
    const before = site.hits();
    expect((await refusal(f, `http://img.test:${site.port}/redirect?to=%2Fimage.png`)).message).toMatch(/resolves to 10\.0\.0\.7 is a private address/);
    expect(calls).toEqual(['img.test', 'img.test']);
    expect(site.hits()).toBe(before + 1);
  });

  test('a same-host redirect to a good address is followed; endless redirects stop at the limit', async () => {
    const { lookup } = fakeResolver({ 'img.test': ['127.0.0.1'] });
    const f = fetcher({ lookup, allowAddresses: ['127.0.0.1'], maxRedirects: 3 });
    const bytes = await f.fetch(`http://img.test:${site.port}/redirect?to=%2Fimage.png`, 'img');
    expect(Buffer.from(bytes).equals(PNG)).toBe(true);
    const err = await f.fetch(`http://img.test:${site.port}/loop`, 'img').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as Error).message).toMatch(/image URL redirects is 4, the limit is 3/);
  });
});

describe('size and time', () => {
  const f = (): ImageUrlFetcher => fetcher({ allowAddresses: ['127.0.0.1'], maxBytes: 1_000_000, timeoutMs: 500 });

  test('a declared size over the limit is refused before reading; an undeclared one is cut off at the limit', async () => {
    const declared = await f().fetch(`${site.url}/big-declared`, 'img').catch((e: unknown) => e);
    expect(declared).toBeInstanceOf(LimitError);
    expect((declared as Error).message).toMatch(/image URL bytes is 5000000, the limit is 1000000/);
    const chunked = await f().fetch(`${site.url}/big-chunked`, 'img').catch((e: unknown) => e);
    expect(chunked).toBeInstanceOf(LimitError);
    expect((chunked as Error).message).toMatch(/the limit is 1000000.*stopped reading/);
  });

  test('a slow image is abandoned at the time limit', async () => {
    const err = await f().fetch(`${site.url}/slow`, 'img').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as Error).message).toMatch(/image URL fetch time \(ms\) is 500, the limit is 500/);
  });
});

describe('through the HTTP API', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await loadTinyEncoder();
  });
  afterAll(async () => encoder?.close());

  test('an enabled server still refuses loopback URLs per item, naming the item; an allowed image embeds', async () => {
    const server = await startServer(encoder, { imageUrls: { allowHosts: ['127.0.0.1', 'localhost'] } });
    try {
      const res = await postJson(`${server.url}/v1/embeddings`, { input: ['fine', { image: `${site.url}/image.png`, text: 'x' }] });
      expect(res.status).toBe(400);
      expect(res.json.error.param).toBe('input[1]');
      expect(res.json.error.message).toMatch(/^input\[1\]\.image: .*127\.0\.0\.1 is a loopback address/);
    } finally {
      await server.close();
    }
    const allowed = await startServer(encoder, { imageUrls: { allowHosts: ['127.0.0.1'], allowAddresses: ['127.0.0.1'] } });
    try {
      const res = await postJson(`${allowed.url}/v1/embeddings`, { input: [{ image: `${site.url}/image.png` }] });
      expect(res.status).toBe(200);
      const [expected] = await encoder.encode([{ image: PNG }]);
      expect(Buffer.from(Float32Array.from(res.json.data[0].embedding).buffer).equals(Buffer.from(expected!.buffer))).toBe(true);
    } finally {
      await allowed.close();
    }
  });
});
