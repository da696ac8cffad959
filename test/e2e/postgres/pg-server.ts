import { postgresCluster } from '../../helpers/postgres.js';
import { TestServer, TestServerOptions, startServer } from '../../helpers/server.js';

/** A real server keeping all its state in a fresh database of this test process's PostgreSQL cluster. */
export async function startPostgresServer(opts: Omit<TestServerOptions, 'databaseUrl'> = {}): Promise<TestServer> {
  return startServer({ ...opts, databaseUrl: await (await postgresCluster()).createDatabase() });
}
