/**
 * The search page in a real browser: Debian's headless Chromium driven by playwright-core loads
 * the page, types a query, drops an image, runs a composed query, and sees ranked results with
 * thumbnails from a test index; then "More like this", an error message, keyboard-only use and a
 * phone-width layout. A screenshot of the results is kept in test-artifacts/.
 *
 * No Chromium is a failure, not a skip: CI (.ci/run) installs it; elsewhere install `chromium`
 * (Debian) or point VBGE_CHROMIUM at a Chromium binary.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Encoder } from '../../src/encoder.js';
import { Index } from '../../src/index/index.js';
import { type Running, TEST_ITEMS, fixtureImage, loadTinyEncoder, startServer } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env['VBGE_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let encoder: Encoder;
let index: Index;
let indexDir: string;
let profileDir: string;
let server: Running;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: the page test needs it (apt-get install chromium, as .ci/run does, or set VBGE_CHROMIUM)`);
  encoder = await loadTinyEncoder();
  indexDir = mkdtempSync(join(tmpdir(), 'vbge-page-index-'));
  index = await Index.open({ location: indexDir, encoder, create: true });
  await index.add(TEST_ITEMS);
  server = await startServer(encoder, { index });
  profileDir = mkdtempSync(join(tmpdir(), 'vbge-chromium-profile-'));
  browser = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1200, height: 900 } });
  page = browser.pages()[0] ?? (await browser.newPage());
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await index?.close();
  await encoder?.close();
  for (const dir of [indexDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Drops `file` on the drop zone as a user's drag and drop would deliver it. */
async function dropImage(file: string): Promise<void> {
  const bytes = readFileSync(file).toString('base64');
  const dataTransfer = await page.evaluateHandle(
    ({ b64, name }) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([raw], name, { type: 'image/png' }));
      return transfer;
    },
    { b64: bytes, name: file.split('/').pop()! },
  );
  await page.dispatchEvent('#drop-zone', 'dragover', { dataTransfer });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
}

const resultIds = (): Promise<string[]> => page.$$eval('#results li.hit', (items) => items.map((li) => (li as HTMLElement).dataset['id']!));

/** Waits until every thumbnail in the grid has loaded; returns how many there are. */
async function loadedThumbnails(): Promise<number> {
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#results img.thumb')].every((img) => img.complete && img.naturalWidth > 0));
  return page.$$eval('#results img.thumb', (imgs) => imgs.length);
}

describe('the search page', () => {
  test('text query, then a dropped image with a text: ranked results with thumbnails', async () => {
    await page.goto(`${server.url}/`);
    await page.fill('#query-text', 'a dog on the beach');
    await page.press('#query-text', 'Enter');
    await page.waitForSelector('#results li.hit');
    expect(await resultIds()).toEqual((await index.search({ text: 'a dog on the beach' }, { k: 24 })).map((h) => h.id));
    expect(await loadedThumbnails()).toBe(TEST_ITEMS.filter((i) => i.image).length);

    await dropImage(fixtureImage('cir_query.png'));
    await page.waitForSelector('#image-preview:not([hidden])');
    await page.fill('#query-text', 'make the dog white');
    await page.click('#search-button');
    await page.waitForFunction(() => document.getElementById('results-heading')!.textContent!.includes('the image with'));
    const expected = (await index.search({ image: fixtureImage('cir_query.png'), text: 'make the dog white' }, { k: 24 })).map((h) => h.id);
    expect(await resultIds()).toEqual(expected);
    expect(await loadedThumbnails()).toBeGreaterThan(0);
    const firstScore = await page.textContent('#results li.hit .score');
    expect(firstScore).toMatch(/^score -?\d\.\d{4}$/);
    expect(await page.textContent('#results li.hit dl')).toMatch(/kind/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'search-page-results.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'search-page-results.png'))).toBe(true);
  });

  test('"More like this" searches by the item and leaves it out', async () => {
    const [first] = await resultIds();
    await page.click('#results li.hit button');
    await page.waitForFunction((id) => document.getElementById('results-heading')!.textContent === `Results for items like ${id}`, first);
    const ids = await resultIds();
    expect(ids).not.toContain(first);
    expect(ids).toEqual((await index.search({ id: first! }, { k: 24 })).map((h) => h.id));
  });

  test('errors are shown in words: an empty query, a non-image file', async () => {
    await page.click('#remove-image');
    await page.fill('#query-text', '');
    await page.click('#search-button');
    expect(await page.textContent('#error')).toBe('Type a text, add an image, or both.');
    await page.setInputFiles('#image-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    expect(await page.textContent('#error')).toMatch(/notes\.txt is not an image/);
  });

  test('usable with the keyboard alone', async () => {
    await page.goto(`${server.url}/`);
    await page.focus('body');
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    expect(order).toEqual(['query-text', 'choose-image', 'k', 'search-button', '']);
    await page.focus('#query-text');
    await page.keyboard.type('a white dog');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#results li.hit button');
    // From the search button, Tab reaches the first "More like this", and Enter runs it.
    await page.focus('#search-button');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('More like this');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('results-heading')!.textContent!.startsWith('Results for items like'));
    expect((await resultIds()).length).toBeGreaterThan(0);
  });

  test('fits a phone-sized screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${server.url}/`);
    await page.fill('#query-text', 'dog');
    await page.press('#query-text', 'Enter');
    await page.waitForSelector('#results li.hit');
    await loadedThumbnails();
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    const columns = await page.$eval('#results', (el) => getComputedStyle(el).gridTemplateColumns.split(' ').length);
    expect(columns).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'search-page-phone.png'), fullPage: true });
  });
});

describe('the search page with an API key', () => {
  test('a 401 asks for the key; with it, results and thumbnails load', async () => {
    const guarded = await startServer(encoder, { index, apiKey: 'page-key' });
    try {
      await page.setViewportSize({ width: 1200, height: 900 });
      await page.goto(`${guarded.url}/`);
      await page.fill('#query-text', 'a dog');
      await page.press('#query-text', 'Enter');
      await page.waitForSelector('#key-field:not([hidden])');
      expect(await page.textContent('#error')).toMatch(/Search failed: this server needs an API key/);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
      await page.fill('#api-key', 'page-key');
      await page.click('#search-button');
      await page.waitForSelector('#results li.hit');
      expect(await page.isHidden('#error')).toBe(true);
      expect(await loadedThumbnails()).toBe(TEST_ITEMS.filter((i) => i.image).length);
      expect(await page.$eval('#results img.thumb', (img) => (img as HTMLImageElement).src.startsWith('blob:'))).toBe(true);
    } finally {
      await guarded.close();
    }
  });
});
