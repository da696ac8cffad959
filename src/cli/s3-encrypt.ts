import {
  CopyObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface S3EncryptFlags {
  bucket: string;
  prefix?: string;
  sse: string;
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
  endpointUrl?: string;
  region?: string;
  stateFile?: string;
  progress?: boolean;
}

/** Where a run got to: the next run on the same state file continues after `lastKey`. */
interface State {
  readonly bucket: string;
  readonly prefix: string;
  readonly sse: string;
  readonly kmsKeyId: string | null;
  lastKey: string;
  encrypted: number;
  already: number;
  skipped: number;
}

const SSE_VALUES = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

/**
 * `strongroom s3 encrypt`: default encryption only applies to new objects (seed 002), so this
 * re-encrypts the existing objects of a bucket (under a prefix) in place — CopyObject onto itself with the
 * new encryption, as AWS recommends (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html,
 * "encrypting existing objects"). It talks to a running server with the caller's credentials (the usual
 * AWS_* environment), so every copy is authorized and audited like any client's, and KMS is called as
 * the caller. Objects already encrypted as asked are skipped; SSE-C objects are skipped (their key is the
 * customer's). Progress is saved after every object: a run that is stopped continues where it stopped.
 * In a versioned bucket the copy is a new version; older versions keep their encryption, as in AWS.
 */
export async function s3EncryptCommand(flags: S3EncryptFlags): Promise<number> {
  if (!SSE_VALUES.has(flags.sse)) {
    process.stderr.write(`strongroom: --sse must be AES256, aws:kms or aws:kms:dsse\n`);
    return 1;
  }
  if (flags.kmsKeyId !== undefined && flags.sse === 'AES256') {
    process.stderr.write('strongroom: --kms-key-id goes with --sse aws:kms\n');
    return 1;
  }
  const endpoint = flags.endpointUrl ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's own notices (that its next versions need a newer Node) are about Strongroom's dependencies, not
  // about anything the user asked: they would only be noise in this command's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true });
  const prefix = flags.prefix ?? '';
  const stateFile = resolve(flags.stateFile ?? `.strongroom-s3-encrypt-${flags.bucket}.json`);
  const state = loadState(stateFile, flags, prefix);
  const progress = flags.progress !== false && process.stderr.isTTY;
  try {
    const total = await countObjects(s3, flags.bucket, prefix, state.lastKey);
    let seen = 0;
    // The bar only on a terminal and unless --no-progress; the summary line (stdout) says the same at the end.
    const show = (final = false) => {
      if (!progress) return;
      const width = 30;
      const filled = total === 0 ? width : Math.round((seen / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${seen}/${total}  encrypted ${state.encrypted}, already ${state.already}, skipped ${state.skipped}${final ? '\n' : ''}`);
    };
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: flags.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : { StartAfter: state.lastKey || undefined }) }));
      for (const object of page.Contents ?? []) {
        const key = object.Key!;
        const head = await s3.send(new HeadObjectCommand({ Bucket: flags.bucket, Key: key })).catch((err: unknown) => {
          // SSE-C objects cannot be read without their key: HEAD answers 400.
          if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 400) return undefined;
          throw err;
        });
        if (!head || head.SSECustomerAlgorithm !== undefined) state.skipped++;
        else if (alreadyAsAsked(head, flags)) state.already++;
        else {
          await s3.send(
            new CopyObjectCommand({
              Bucket: flags.bucket,
              Key: key,
              CopySource: `${flags.bucket}/${encodeURIComponent(key)}`,
              MetadataDirective: 'COPY',
              ServerSideEncryption: flags.sse as ServerSideEncryption,
              ...(flags.kmsKeyId !== undefined ? { SSEKMSKeyId: flags.kmsKeyId } : {}),
              ...(flags.bucketKeyEnabled !== undefined ? { BucketKeyEnabled: flags.bucketKeyEnabled } : {}),
            }),
          );
          state.encrypted++;
        }
        state.lastKey = key;
        seen++;
        saveState(stateFile, state);
        show();
      }
      token = page.NextContinuationToken;
    } while (token);
    show(true);
    rmSync(stateFile, { force: true });
    process.stdout.write(`s3://${flags.bucket}/${prefix}: ${state.encrypted} re-encrypted with ${flags.sse}, ${state.already} already were, ${state.skipped} skipped (SSE-C)\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`\nstrongroom: stopped after ${state.lastKey === '' ? 'no object' : `'${state.lastKey}'`}: ${(err as Error).name}: ${(err as Error).message}\n`);
    process.stderr.write(`strongroom: run the same command again to continue (progress is in ${stateFile})\n`);
    return 1;
  } finally {
    s3.destroy();
  }
}

function alreadyAsAsked(head: { ServerSideEncryption?: string; SSEKMSKeyId?: string }, flags: S3EncryptFlags): boolean {
  if (head.ServerSideEncryption !== flags.sse) return false;
  if (flags.sse === 'AES256' || flags.kmsKeyId === undefined) return true;
  const id = flags.kmsKeyId;
  // A key id or ARN can be compared; an alias cannot without KMS, so it is re-encrypted to be sure.
  return head.SSEKMSKeyId === id || (head.SSEKMSKeyId?.endsWith(`:key/${id}`) ?? false);
}

async function countObjects(s3: S3Client, bucket: string, prefix: string, after: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : { StartAfter: after || undefined }) }));
    n += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  return n;
}

function loadState(file: string, flags: S3EncryptFlags, prefix: string): State {
  const fresh: State = { bucket: flags.bucket, prefix, sse: flags.sse, kmsKeyId: flags.kmsKeyId ?? null, lastKey: '', encrypted: 0, already: 0, skipped: 0 };
  if (!existsSync(file)) return fresh;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as State;
  if (saved.bucket !== fresh.bucket || saved.prefix !== fresh.prefix || saved.sse !== fresh.sse || saved.kmsKeyId !== fresh.kmsKeyId) {
    throw new Error(`${file} belongs to another run (bucket ${saved.bucket}, prefix '${saved.prefix}', ${saved.sse}); remove it to start over`);
  }
  process.stderr.write(`strongroom: continuing after '${saved.lastKey}' (${file})\n`);
  return saved;
}

/** Written atomically (temp file + rename), so a kill mid-write never leaves a torn state file. */
function saveState(file: string, state: State): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(state), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
