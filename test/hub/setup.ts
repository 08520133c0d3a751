import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { FakeHub, publishedFixtureFiles } from '../helpers/fake-hub.js';

export interface HubTestContext {
  hub: FakeHub;
  /** HF_HOME for the test; the cache is `${home}/hub`. */
  home: string;
  cache: string;
  cleanup: () => Promise<void>;
}

/** A fake hub serving the fixtures, and an environment that points only at it and a fresh cache. */
export async function startHubTest(): Promise<HubTestContext> {
  const hub = await FakeHub.start(publishedFixtureFiles(FIXTURES));
  const home = await mkdtemp(join(tmpdir(), 'vbge-hub-'));
  vi.stubEnv('HF_HOME', home);
  vi.stubEnv('HF_ENDPOINT', hub.endpoint);
  for (const name of ['HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE']) {
    vi.stubEnv(name, '');
  }
  return {
    hub,
    home,
    cache: join(home, 'hub'),
    cleanup: async () => {
      vi.unstubAllEnvs();
      await hub.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
