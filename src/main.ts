import { buildApp } from './app.js';
import { Config } from './config/config.js';

/** Starts the server and keeps it running until SIGTERM/SIGINT, then shuts down cleanly. */
export async function main(config: Config): Promise<void> {
  const app = await buildApp(config);
  const url = await app.listen();
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
  }
  // Last, so that a supervisor waiting for this line has everything above it.
  out.write(`Strongroom listening on ${url} (account ${d.accountId}, region ${d.homeRegion}, data ${config.dataDir})\n`);
}
