/** A real Postgres with pgvector for tests and benches: PGlite on the wire protocol, on loopback. */
export interface TestPostgres {
  /** A postgres:// URL for `pg` (and `--store`), naming a fresh index table. */
  url(index: string): string;
  close(): Promise<void>;
}

/**
 * Real Postgres code with the real pgvector extension: PGlite (Postgres compiled to WebAssembly)
 * served on the Postgres wire protocol on a loopback port, so `pg` and child processes connect as
 * they would to a server.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create({ extensions: { vector } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 32 });
  await server.start();
  const address = (server as unknown as { server?: { address(): { port: number } } }).server?.address();
  const port = address?.port;
  if (!port) throw new Error('PGlite socket server did not report its port');
  return {
    url: (index) => `postgres://postgres@127.0.0.1:${port}/postgres?index=${index}`,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}

