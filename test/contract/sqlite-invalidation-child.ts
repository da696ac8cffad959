// A child process of sqlite-invalidation-port.test.ts: another worker on the same SQLite file. Prints `ready`,
// then `heard <key>` for every kms.keys invalidation it receives; publishes the key of every `publish <key>`
// line on stdin; exits when stdin closes.
import { createInterface } from 'node:readline';
import { TOPICS } from '../../src/core/cache/invalidation.js';
import { SqliteDatabase } from '../../src/store/metadata/sqlite/database.js';
import { SqliteInvalidationPort } from '../../src/store/metadata/sqlite/invalidation-port.js';

const db = new SqliteDatabase(process.argv[2]!);
const port = new SqliteInvalidationPort(db);
port.subscribe(TOPICS.kmsKeys, (key) => process.stdout.write(`heard ${key ?? '*'}\n`));
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.startsWith('publish ')) await port.publish(TOPICS.kmsKeys, line.slice('publish '.length));
}
port.close();
db.close();
