import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT, hubOptionsFromEnv } from '../../src/hub/index.js';

describe('hubOptionsFromEnv', () => {
  it('defaults like huggingface_hub', () => {
    const o = hubOptionsFromEnv({}, {});
    expect(o.endpoint).toBe(DEFAULT_ENDPOINT);
    expect(o.cacheDir).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
    expect(o.offline).toBe(false);
    expect(o.revision).toBe('main');
    expect(hubOptionsFromEnv({}, { XDG_CACHE_HOME: '/x' }).cacheDir).toBe('/x/huggingface/hub');
  });

  it('reads HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE and the tokens', () => {
    expect(hubOptionsFromEnv({}, { HF_HOME: '/h' }).cacheDir).toBe('/h/hub');
    expect(hubOptionsFromEnv({}, { HF_HOME: '/h', HF_HUB_CACHE: '/c' }).cacheDir).toBe('/c');
    expect(hubOptionsFromEnv({}, { HF_ENDPOINT: 'https://hf-mirror.example/' }).endpoint).toBe('https://hf-mirror.example');
    for (const v of ['1', 'true', 'YES', 'on']) expect(hubOptionsFromEnv({}, { HF_HUB_OFFLINE: v }).offline).toBe(true);
    for (const v of ['0', '', 'false']) expect(hubOptionsFromEnv({}, { HF_HUB_OFFLINE: v }).offline).toBe(false);
    expect(hubOptionsFromEnv({}, { HF_HOME: '/nonexistent', HF_TOKEN: 'a' }).token).toBe('a');
    expect(hubOptionsFromEnv({}, { HF_HOME: '/nonexistent', HUGGING_FACE_HUB_TOKEN: 'b' }).token).toBe('b');
    expect(hubOptionsFromEnv({}, { HF_HOME: '/nonexistent' }).token).toBeUndefined();
  });

  it('reads the token file `huggingface-cli login` writes', async () => {
    const home = await mkdtemp(join(tmpdir(), 'vbge-hf-home-'));
    try {
      await writeFile(join(home, 'token'), 'hf_from_file\n');
      expect(hubOptionsFromEnv({}, { HF_HOME: home }).token).toBe('hf_from_file');
      expect(hubOptionsFromEnv({}, { HF_HOME: home, HF_TOKEN: 'env' }).token).toBe('env');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('lets explicit options win over the environment', () => {
    const o = hubOptionsFromEnv(
      { endpoint: 'http://e', token: 't', cacheDir: '/d', offline: false, revision: 'v1' },
      { HF_ENDPOINT: 'http://x', HF_TOKEN: 'y', HF_HUB_CACHE: '/z', HF_HUB_OFFLINE: '1' },
    );
    expect([o.endpoint, o.token, o.cacheDir, o.offline, o.revision]).toEqual(['http://e', 't', '/d', false, 'v1']);
  });
});
