import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { awsClientEnv } from './aws-env.js';

export interface ValidateLogsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `aws cloudtrail validate-logs --verbose` for the trail from `startTime` on, against the server at `url`. */
export function validateLogs(url: string, trailArn: string, startTime: Date): Promise<ValidateLogsRun> {
  // validate-logs takes --endpoint-url for CloudTrail only; S3 (and the rest) follow AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL.
  const env = { ...awsClientEnv(), AWS_ENDPOINT_URL: url, AWS_ENDPOINT_URL_S3: url };
  const args = ['cloudtrail', 'validate-logs', '--trail-arn', trailArn, '--start-time', startTime.toISOString().replace(/\.\d{3}Z$/, 'Z'), '--verbose'];
  return new Promise((resolve, reject) => {
    execFile('aws', args, { env, timeout: 120_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`aws validate-logs did not run: ${err.message}\n${stderr}`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** The run passed, found nothing INVALID and validated every log file it listed (at least one). */
export function assertAllLogFilesValid(run: ValidateLogsRun): void {
  const out = `${run.stdout}${run.stderr}`;
  assert.equal(run.code, 0, out);
  assert.doesNotMatch(out, /INVALID/);
  assert.match(out, /(\d+)\/\1 log files valid/);
  assert.doesNotMatch(out, / 0\/0 log files valid/);
}
