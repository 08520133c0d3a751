/**
 * A local server that answers like the Hugging Face hub's file routes, for download tests:
 *
 * - `HEAD|GET /{repo}/resolve/{revision}/{file}`: regular files answer 200 with ETag = "git blob
 *   sha1", Content-Length, X-Repo-Commit, Accept-Ranges and Range support (206). LFS files answer
 *   302 to a CDN on another origin, with X-Linked-Etag = "sha256", X-Linked-Size, X-Repo-Commit.
 * - `HEAD|GET /lfs/{sha256}` on the CDN server: the content, with Range support.
 * - Unknown repo → 401 RepoNotFound; unknown revision → 404 RevisionNotFound; unknown file → 404
 *   EntryNotFound; with `token` set, a missing or wrong bearer token → 401.
 * - Fault injection: drop the connection after N bytes, or serve corrupted bytes, a given number of times.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeHubFile {
  repo: string;
  path: string;
  content: Buffer;
  /** Served through the LFS redirect; default: `.pth`, `.bin`, `.safetensors`, `.model` files. */
  lfs?: boolean;
}

export interface SeenRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface Fault {
  kind: 'drop' | 'corrupt';
  afterBytes: number;
  times: number;
}

interface Entry extends FakeHubFile {
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function fakeCommit(repo: string, salt = ''): string {
  return createHash('sha1').update(`commit:${repo}:${salt}`).digest('hex');
}

export class FakeHub {
  readonly requests: SeenRequest[] = [];
  /** When set, every hub request must carry `Authorization: Bearer {token}`. */
  token: string | undefined;
  private readonly files = new Map<string, Entry>();
  private readonly commits = new Map<string, string>();
  private readonly faults = new Map<string, Fault>();
  private hub!: Server;
  private cdn!: Server;

  private constructor(files: FakeHubFile[]) {
    for (const f of files) this.put(f);
  }

  static async start(files: FakeHubFile[], options: { token?: string } = {}): Promise<FakeHub> {
    const fake = new FakeHub(files);
    fake.token = options.token;
    fake.hub = await listen((req, res) => fake.onHub(req, res));
    fake.cdn = await listen((req, res) => fake.onCdn(req, res));
    return fake;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
  }

  get cdnOrigin(): string {
    return `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  /** Adds or replaces a file; the repo gets a new commit. */
  put(file: FakeHubFile): void {
    const lfs = file.lfs ?? /\.(pth|bin|safetensors|model)$/.test(file.path);
    this.files.set(`${file.repo}/${file.path}`, { ...file, lfs, sha256: sha256(file.content), gitSha1: gitBlobSha1(file.content) });
    const previous = this.commits.get(file.repo) ?? '';
    this.commits.set(file.repo, fakeCommit(file.repo, previous + file.path));
  }

  commit(repo: string): string {
    const c = this.commits.get(repo);
    if (c === undefined) throw new Error(`no repo ${repo}`);
    return c;
  }

  entry(repo: string, path: string): Entry {
    const e = this.files.get(`${repo}/${path}`);
    if (e === undefined) throw new Error(`no file ${repo}/${path}`);
    return e;
  }

  /** The next `times` content GETs of the file stop after `afterBytes` bytes (the socket is destroyed). */
  dropAfter(repo: string, path: string, afterBytes: number, times = 1): void {
    this.faults.set(this.entry(repo, path).sha256, { kind: 'drop', afterBytes, times });
  }

  /** The next `times` content GETs of the file flip one byte at `atByte` (headers unchanged). */
  corrupt(repo: string, path: string, atByte = 0, times = 1): void {
    this.faults.set(this.entry(repo, path).sha256, { kind: 'corrupt', afterBytes: atByte, times });
  }

  /** Requests for content (GETs), as `server path [range]`. */
  contentRequests(): SeenRequest[] {
    return this.requests.filter((r) => r.method === 'GET');
  }

  async close(): Promise<void> {
    await Promise.all([close(this.hub), close(this.cdn)]);
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage): string {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push({ server, method: req.method ?? '', path, headers: req.headers });
    return path;
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    const path = this.record('hub', req);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m === null) return refuse(res, 404, 'EntryNotFound', 'not a resolve route');
    const [, repo, revision, file] = m as unknown as [string, string, string, string];
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      return refuse(res, 401, 'RepoNotFound', 'Invalid credentials in Authorization header');
    }
    const commit = this.commits.get(repo);
    if (commit === undefined) return refuse(res, 401, 'RepoNotFound', 'Repository not found');
    if (revision !== 'main' && revision !== commit) return refuse(res, 404, 'RevisionNotFound', 'Invalid rev id');
    const e = this.files.get(`${repo}/${file}`);
    if (e === undefined) return refuse(res, 404, 'EntryNotFound', 'Entry not found');
    res.setHeader('X-Repo-Commit', commit);
    if (e.lfs) {
      res.setHeader('X-Linked-Etag', `"${e.sha256}"`);
      res.setHeader('X-Linked-Size', String(e.content.length));
      res.setHeader('ETag', `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${e.sha256}\n`))}"`);
      res.setHeader('Location', `${this.cdnOrigin}/lfs/${e.sha256}?signature=fake`);
      res.statusCode = 302;
      res.setHeader('Content-Length', '0');
      res.end();
      return;
    }
    res.setHeader('ETag', `"${e.gitSha1}"`);
    this.serveContent(req, res, e);
  }

  private onCdn(req: IncomingMessage, res: ServerResponse): void {
    const path = this.record('cdn', req);
    const m = /^\/lfs\/([0-9a-f]{64})$/.exec(path);
    const e = m === null ? undefined : [...this.files.values()].find((f) => f.sha256 === m[1]);
    if (e === undefined) return refuse(res, 404, '', 'no such object');
    res.setHeader('ETag', `"${e.sha256}"`);
    this.serveContent(req, res, e);
  }

  private serveContent(req: IncomingMessage, res: ServerResponse, e: Entry): void {
    const size = e.content.length;
    res.setHeader('Accept-Ranges', 'bytes');
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    if (range !== undefined) {
      const r = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (r === null || Number(r[1]) >= size) {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${size}`);
        res.end();
        return;
      }
      start = Number(r[1]);
      if (r[2] !== '') end = Math.min(end, Number(r[2]));
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
    res.setHeader('Content-Length', String(end - start + 1));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let body = e.content.subarray(start, end + 1);
    const fault = this.faults.get(e.sha256);
    if (fault !== undefined && fault.times > 0) {
      fault.times--;
      if (fault.kind === 'drop') {
        res.flushHeaders();
        res.write(body.subarray(0, Math.max(0, fault.afterBytes - start)), () => res.destroy());
        return;
      }
      body = Buffer.from(body);
      const at = fault.afterBytes - start;
      if (at >= 0 && at < body.length) body[at] = body[at]! ^ 0xff;
    }
    res.end(body);
  }
}

function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  res.statusCode = status;
  if (code !== '') res.setHeader('X-Error-Code', code);
  res.setHeader('X-Error-Message', message);
  res.end();
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The tiny fixtures under the published names: tiny-bert as `base`, tiny-xlmr as `m3`. */
export function publishedFixtureFiles(fixturesDir: string): FakeHubFile[] {
  const read = (p: string): Buffer => readFileSync(join(fixturesDir, p));
  const files: FakeHubFile[] = [
    { repo: 'BAAI/bge-visualized', path: 'Visualized_base_en_v1.5.pth', content: read('tiny-bert/Visualized_tiny-bert.pth') },
    { repo: 'BAAI/bge-visualized', path: 'Visualized_m3.pth', content: read('tiny-xlmr/Visualized_tiny-xlmr.pth') },
  ];
  for (const [set, repo] of [
    ['tiny-bert', 'BAAI/bge-base-en-v1.5'],
    ['tiny-xlmr', 'BAAI/bge-m3'],
  ] as const) {
    for (const name of readdirSync(join(fixturesDir, set, 'text'))) {
      // bge-m3's 17 MB tokenizer.json is stored in LFS on the hub; bge-base's is a plain git file.
      const lfs = repo === 'BAAI/bge-m3' && name === 'tokenizer.json' ? true : undefined;
      files.push({ repo, path: name, content: read(`${set}/text/${name}`), ...(lfs ? { lfs } : {}) });
    }
  }
  return files;
}
