import { lstat, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { HubError, HubUnreachableError, downloadFile, type HubProgress } from '../../src/hub/index.js';
import { startHubTest, type HubTestContext } from './setup.js';

const REPO = 'BAAI/bge-visualized';
const PTH = 'Visualized_base_en_v1.5.pth';
const TEXT = 'BAAI/bge-base-en-v1.5';

let t: HubTestContext;
beforeEach(async () => {
  t = await startHubTest();
});
afterEach(async () => {
  await t.cleanup();
});

const repoDir = (repo: string): string => join(t.cache, `models--${repo.replace('/', '--')}`);

describe('downloadFile', () => {
  it('stores an LFS file in the huggingface_hub layout: blob by sha256, relative snapshot link, ref', async () => {
    const path = await downloadFile(REPO, PTH);
    const e = t.hub.entry(REPO, PTH);
    const commit = t.hub.commit(REPO);
    expect(path).toBe(join(repoDir(REPO), 'snapshots', commit, PTH));
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
    expect(await readlink(path)).toBe(`../../blobs/${e.sha256}`);
    expect(Buffer.compare(await readFile(path), e.content)).toBe(0);
    expect((await readFile(join(repoDir(REPO), 'refs', 'main'), 'utf8')).trim()).toBe(commit);
    expect(await readdir(join(repoDir(REPO), 'blobs'))).toEqual([e.sha256]);
    // the content came from the CDN origin the hub redirected to
    expect(t.hub.contentRequests().map((r) => r.server)).toEqual(['cdn']);
  });

  it('names a regular git file by its git blob sha1', async () => {
    const path = await downloadFile(TEXT, 'tokenizer.json');
    const e = t.hub.entry(TEXT, 'tokenizer.json');
    expect(await readlink(path)).toBe(`../../blobs/${e.gitSha1}`);
    expect(Buffer.compare(await readFile(path), e.content)).toBe(0);
    expect(t.hub.contentRequests().map((r) => r.server)).toEqual(['hub']);
  });

  it('reports progress up to the full size', async () => {
    const seen: HubProgress[] = [];
    await downloadFile(REPO, PTH, { onProgress: (p) => seen.push(p) });
    const size = t.hub.entry(REPO, PTH).content.length;
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((p) => p.total === size && p.file === `${REPO}/${PTH}`)).toBe(true);
    expect(seen.at(-1)!.received).toBe(size);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.received).toBeGreaterThanOrEqual(seen[i - 1]!.received);
  });

  it('does not download again what is cached and intact (HEAD only)', async () => {
    await downloadFile(REPO, PTH);
    const gets = t.hub.contentRequests().length;
    const done: boolean[] = [];
    await downloadFile(REPO, PTH, { onFileDone: (f) => done.push(f.cached) });
    expect(t.hub.contentRequests().length).toBe(gets);
    expect(t.hub.requests.at(-1)!.method).toBe('HEAD');
    expect(done).toEqual([true]);
  });

  it('resumes an interrupted download from the .incomplete file with a Range request', async () => {
    const e = t.hub.entry(REPO, PTH);
    t.hub.dropAfter(REPO, PTH, 200_000);
    const err = await downloadFile(REPO, PTH, { retries: 0 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toMatch(/broken off at \d+ of 465835 bytes.*run the command again/);
    const partial = join(repoDir(REPO), 'blobs', `${e.sha256}.incomplete`);
    const have = (await stat(partial)).size;
    // what reached the disk before the break (the client may lose its last buffered chunk)
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThanOrEqual(200_000);
    expect(Buffer.compare(await readFile(partial), e.content.subarray(0, have))).toBe(0);

    const path = await downloadFile(REPO, PTH);
    const gets = t.hub.contentRequests();
    expect(gets).toHaveLength(2);
    expect(gets[0]!.headers.range).toBeUndefined();
    expect(gets[1]!.headers.range).toBe(`bytes=${have}-`);
    expect(Buffer.compare(await readFile(path), e.content)).toBe(0);
    await expect(stat(partial)).rejects.toThrow(/ENOENT/);
  });

  it('resumes within one call when the connection drops', async () => {
    const e = t.hub.entry(REPO, PTH);
    t.hub.dropAfter(REPO, PTH, 100_000, 2);
    const path = await downloadFile(REPO, PTH);
    const ranges = t.hub.contentRequests().map((r) => r.headers.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    const starts = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[1]).toBeGreaterThanOrEqual(starts[0]!);
    expect(Buffer.compare(await readFile(path), e.content)).toBe(0);
  });

  it('detects corrupted bytes by checksum and fetches the file again', async () => {
    const e = t.hub.entry(REPO, PTH);
    t.hub.corrupt(REPO, PTH, 1234);
    const path = await downloadFile(REPO, PTH);
    expect(t.hub.contentRequests()).toHaveLength(2);
    expect(Buffer.compare(await readFile(path), e.content)).toBe(0);
  });

  it('gives up with a checksum error when every copy is corrupt, leaving nothing behind', async () => {
    t.hub.corrupt(REPO, PTH, 1234, 5);
    await expect(downloadFile(REPO, PTH)).rejects.toThrow(/fail the hub's checksum [0-9a-f]{64}/);
    const blobs = await readdir(join(repoDir(REPO), 'blobs'));
    expect(blobs).toEqual([]);
  });

  it('detects a corrupt git file (sha1 check) too', async () => {
    t.hub.corrupt(TEXT, 'vocab.txt', 3);
    const path = await downloadFile(TEXT, 'vocab.txt');
    expect(t.hub.contentRequests()).toHaveLength(2);
    expect(Buffer.compare(await readFile(path), t.hub.entry(TEXT, 'vocab.txt').content)).toBe(0);
  });

  for (const [repo, file] of [
    [REPO, PTH],
    [TEXT, 'config.json'],
  ] as const) {
    it(`re-fetches a cached blob that was corrupted on disk (${file})`, async () => {
      const path = await downloadFile(repo, file);
      const good = await readFile(path);
      const bad = Buffer.from(good);
      bad[10] = bad[10]! ^ 1;
      await writeFile(path, bad); // writes through the link into the blob
      const before = t.hub.contentRequests().length;
      const again = await downloadFile(repo, file);
      expect(t.hub.contentRequests().length).toBe(before + 1);
      expect(Buffer.compare(await readFile(again), good)).toBe(0);
    });
  }

  it('lets two concurrent downloads of one file share a single transfer', async () => {
    const [a, b] = await Promise.all([downloadFile(REPO, PTH), downloadFile(REPO, PTH)]);
    expect(a).toBe(b);
    expect(t.hub.contentRequests()).toHaveLength(1);
    expect(await readdir(join(t.cache, '.locks', 'models--BAAI--bge-visualized'))).toEqual([]);
  });

  it('sends HF_TOKEN to the hub as a bearer token, but not to the CDN', async () => {
    t.hub.token = 'hf_secret';
    process.env.HF_TOKEN = 'hf_secret';
    await downloadFile(REPO, PTH);
    const hubSeen = t.hub.requests.filter((r) => r.server === 'hub');
    expect(hubSeen.length).toBeGreaterThan(0);
    expect(hubSeen.every((r) => r.headers.authorization === 'Bearer hf_secret')).toBe(true);
    expect(t.hub.requests.filter((r) => r.server === 'cdn').every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('says to set HF_TOKEN when the hub refuses (401)', async () => {
    t.hub.token = 'hf_secret';
    const err = await downloadFile(REPO, PTH).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(401);
    expect((err as Error).message).toMatch(/BAAI\/bge-visualized.*HF_TOKEN/);
  });

  it('names the missing file, revision or repository (404/401)', async () => {
    await expect(downloadFile(TEXT, 'nope.json')).rejects.toThrow(/BAAI\/bge-base-en-v1\.5\/nope\.json: no such file .*"main" \(HTTP 404\)/);
    await expect(downloadFile(TEXT, 'config.json', { revision: 'v9' })).rejects.toThrow(/revision "v9" was not found in BAAI\/bge-base-en-v1\.5/);
    await expect(downloadFile('BAAI/nothing-here', 'config.json')).rejects.toThrow(/repository BAAI\/nothing-here was not found on http:\/\/127\.0\.0\.1/);
  });

  it('accepts a commit hash as revision without writing a ref', async () => {
    const commit = t.hub.commit(TEXT);
    const path = await downloadFile(TEXT, 'config.json', { revision: commit });
    expect(path).toContain(join('snapshots', commit, 'config.json'));
    await expect(stat(join(repoDir(TEXT), 'refs', commit))).rejects.toThrow(/ENOENT/);
  });

  it('uses HF_ENDPOINT, and falls back to the cache when it cannot be reached', async () => {
    const path = await downloadFile(TEXT, 'config.json');
    expect(t.hub.requests.length).toBeGreaterThan(0); // HF_ENDPOINT pointed at the fake hub
    const endpoint = t.hub.endpoint;
    await t.hub.close();
    expect(await downloadFile(TEXT, 'config.json')).toBe(path);
    const err = await downloadFile(TEXT, 'vocab.txt', { retries: 0 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(HubUnreachableError);
    expect((err as Error).message).toContain(`cannot reach ${endpoint}`);
  });

  it('refuses repository ids and file names that could leave the cache', async () => {
    await expect(downloadFile('BAAI/../etc', 'x')).rejects.toBeInstanceOf(InputError);
    await expect(downloadFile(REPO, '../../../escape')).rejects.toBeInstanceOf(InputError);
    await expect(downloadFile(REPO, '/abs')).rejects.toBeInstanceOf(InputError);
    await expect(downloadFile(REPO, PTH, { revision: '../x' })).rejects.toBeInstanceOf(InputError);
    expect(t.hub.requests).toHaveLength(0);
  });
});
