/**
 * The floor for `npm run bench:kms`: a bare node:http server that answers each request with the exact
 * status, headers and body Strongroom gave for the same X-Amz-Target (or the `*` answer, for requests without one
 * such as bench/xks.ts's XKS proxy calls), and does nothing else. It reads
 * the request body before answering, as any server must, so the difference to Strongroom is the
 * work Strongroom does (SigV4, JSON, validation, crypto, logging), not HTTP itself.
 *
 * Usage: node dist/bench/bare-server.js <responses.json> [processes]   (written by bench/kms.ts)
 * With processes > 1, that many node:cluster workers share the port, as `strongroom serve --workers N` does
 * (the floor for N processes). Prints "bare listening on http://127.0.0.1:PORT" once every process listens;
 * exits on SIGTERM/SIGINT.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { CannedResponses } from './support/canned.js';

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: bare-server.js <responses.json> [processes]');
  const processes = Number(process.argv[3] ?? 1);
  if (processes > 1 && cluster.isPrimary) return primary(processes);
  const canned = JSON.parse(readFileSync(file, 'utf8')) as CannedResponses;
  const answers = new Map(Object.entries(canned).map(([target, r]) => [target, { ...r, body: Buffer.from(r.body, 'base64') }]));

  const server = createServer((req, res) => {
    const answer = answers.get(String(req.headers['x-amz-target'])) ?? answers.get('*');
    req.on('end', () => {
      if (!answer) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
    req.resume();
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    if (cluster.isWorker) process.send!({ port });
    else process.stdout.write(`bare listening on http://127.0.0.1:${port}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Forks the workers; prints the listening line once all of them listen (they share one port). */
function primary(processes: number): void {
  let listening = 0;
  for (let i = 0; i < processes; i++) {
    cluster.fork().on('message', (m: { port: number }) => {
      if (++listening === processes) process.stdout.write(`bare listening on http://127.0.0.1:${m.port}\n`);
    });
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
