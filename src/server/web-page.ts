/**
 * The search page's own files (src/server/web: plain HTML, CSS and JS, no build step), read once
 * at start and served from a fixed table: no request path ever reaches the file system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** The page may load its own scripts, styles and images, and the images a user drops (blob:/data:). */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** src/server/web beside this module; from the compiled dist/src/server, the sources' folder. */
function webDir(): string {
  const candidates = [new URL('./web/', import.meta.url), new URL('../../../src/server/web/', import.meta.url)];
  const found = candidates.map((u) => fileURLToPath(u)).find((dir) => existsSync(`${dir}index.html`));
  if (!found) throw new Error(`the web page's files are missing (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
  return found;
}

export function registerWebPage(app: FastifyInstance): void {
  const dir = webDir();
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(`${dir}${file}`);
    app.get(route, async (_request, reply) =>
      reply.header('content-type', type).header('content-security-policy', CONTENT_SECURITY_POLICY).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(body),
    );
  }
}
