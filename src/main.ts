import { buildApp } from './app.js';
import { CREDENTIALS_FILE } from './bootstrap.js';
import { Config } from './config/config.js';
import { assertCanListen, listenError } from './http/listen-check.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Starts the server and keeps it running until SIGTERM/SIGINT, then shuts down cleanly. */
export async function main(config: Config): Promise<void> {
  // A port that cannot be listened on is refused before anything is made (buildApp makes the data dir).
  await assertCanListen(config.host, config.port);
  const app = await buildApp(config);
  let url: string;
  try {
    url = await app.listen();
  } catch (err) {
    await app.close().catch(() => {});
    throw (err as NodeJS.ErrnoException).code ? listenError(err as NodeJS.ErrnoException, config.host, config.port) : err;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Before the listening line: a supervisor may signal as soon as it reads it.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const d = app.deployment;
  const out = process.stdout;
  if (d.generatedRoot) {
    out.write(
      `Root credentials (shown once; also saved to ${config.dataDir}/credentials, mode 0600):\n` +
        `  export AWS_ACCESS_KEY_ID=${d.generatedRoot.accessKeyId}\n` +
        `  export AWS_SECRET_ACCESS_KEY=${d.generatedRoot.secretAccessKey}\n` +
        `  export AWS_DEFAULT_REGION=${d.homeRegion}\n`,
    );
  } else if (config.rootAccessKeyId !== undefined) {
    out.write(`Root credentials: STRONGROOM_ROOT_ACCESS_KEY_ID (${config.rootAccessKeyId}) and STRONGROOM_ROOT_SECRET_ACCESS_KEY\n`);
  } else if (existsSync(join(config.dataDir, CREDENTIALS_FILE))) {
    out.write(`Root credentials: in ${join(config.dataDir, CREDENTIALS_FILE)} (export AWS_SHARED_CREDENTIALS_FILE=${join(config.dataDir, CREDENTIALS_FILE)})\n`);
  }
  if (config.tls?.selfSigned) {
    const cert = config.tls.certFile;
    out.write(`TLS: self-signed certificate ${cert}; trust it with AWS_CA_BUNDLE=${cert} (aws CLI, boto3) or NODE_EXTRA_CA_CERTS=${cert} (Node SDKs)\n`);
  }
  // Last, so that a supervisor waiting for this line has everything above it.
  out.write(`Strongroom listening on ${url} (account ${d.accountId}, region ${d.homeRegion}, data ${config.dataDir})\n`);
}
