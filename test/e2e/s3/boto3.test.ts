// boto3 (Python) S3 against a real in-process Strongroom server served over HTTPS (an openssl self-signed
// certificate; boto3 with verify=False): one Python process runs the whole scenario and prints a JSON report of
// what boto3 saw; the node tests assert on that report. SSE-S3, SSE-KMS (aws/s3 and a customer managed key) and
// SSE-C (which S3 accepts only over TLS) objects are put, listed, headed and read back.
//
// A python3 without boto3 (or a machine without openssl) skips the suite on a developer machine; with CI set it
// is a failure.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { PY_ERROR_OF } from '../../helpers/boto3.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const PYTHON = 'python3';

function unavailable(): string | undefined {
  const res = spawnSync(PYTHON, ['-c', 'import boto3, botocore; print(boto3.__version__, botocore.__version__)'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${PYTHON} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  if (res.status !== 0) return `${PYTHON} cannot import boto3: ${res.stderr.trim().split('\n').pop() ?? ''}`;
  const ssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (ssl.error || ssl.status !== 0) return 'openssl cannot be run';
  return undefined;
}

// sys.argv[1:5]: endpoint URL, access key, secret key, region. Everything boto3 returned or raised is reported
// as JSON on stdout; anything unexpected raises, which makes the script exit non-zero with a traceback.
const SCRIPT = String.raw`
import base64, hashlib, io, json, sys, warnings
warnings.filterwarnings('ignore')
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, access_key, secret_key, region = sys.argv[1:5]
session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region)
cfg = Config(retries={'max_attempts': 1}, s3={'addressing_style': 'path'})
s3 = session.client('s3', endpoint_url=url, verify=False, config=cfg)
kms = session.client('kms', endpoint_url=url, verify=False, config=cfg)
report = {'boto3': boto3.__version__}

${PY_ERROR_OF}

def enc_headers(resp):
    h = resp['ResponseMetadata']['HTTPHeaders']
    return {k: v for k, v in h.items() if k.startswith('x-amz-server-side-encryption') or k in ('etag', 'content-length', 'content-type')}

s3.create_bucket(Bucket='boto3-bucket')
cmk = kms.create_key(Description='boto3 s3 key')['KeyMetadata']
report['cmkArn'] = cmk['Arn']

body = b'SSE-S3 body ' + bytes(range(256)) * 400
put = s3.put_object(Bucket='boto3-bucket', Key='sse-s3.bin', Body=body, ContentType='application/x-test', Metadata={'owner': 'boto3'})
get = s3.get_object(Bucket='boto3-bucket', Key='sse-s3.bin')
head = s3.head_object(Bucket='boto3-bucket', Key='sse-s3.bin')
report['sseS3'] = {'put': {k: put.get(k) for k in ('ETag', 'ServerSideEncryption', 'SSEKMSKeyId')},
                   'roundTrip': get['Body'].read() == body, 'md5': hashlib.md5(body).hexdigest(),
                   'get': {k: get.get(k) for k in ('ETag', 'ServerSideEncryption', 'ContentType', 'Metadata', 'ContentLength')},
                   'headHeaders': enc_headers(head)}

put = s3.put_object(Bucket='boto3-bucket', Key='sse-kms.bin', Body=body, ServerSideEncryption='aws:kms')
head = s3.head_object(Bucket='boto3-bucket', Key='sse-kms.bin')
get = s3.get_object(Bucket='boto3-bucket', Key='sse-kms.bin')
report['sseKms'] = {'put': {k: put.get(k) for k in ('ServerSideEncryption', 'SSEKMSKeyId', 'BucketKeyEnabled')},
                    'roundTrip': get['Body'].read() == body, 'get': {k: get.get(k) for k in ('ServerSideEncryption', 'SSEKMSKeyId')},
                    'headHeaders': enc_headers(head),
                    'awsS3Arn': kms.describe_key(KeyId='alias/aws/s3')['KeyMetadata']['Arn']}

ctx = base64.b64encode(json.dumps({'project': 'strongroom'}).encode()).decode()
put = s3.put_object(Bucket='boto3-bucket', Key='sse-cmk.bin', Body=body, ServerSideEncryption='aws:kms', SSEKMSKeyId=cmk['KeyId'],
                    SSEKMSEncryptionContext=ctx, BucketKeyEnabled=True)
head = s3.head_object(Bucket='boto3-bucket', Key='sse-cmk.bin')
get = s3.get_object(Bucket='boto3-bucket', Key='sse-cmk.bin', Range='bytes=100-199')
report['sseCmk'] = {'put': {k: put.get(k) for k in ('ServerSideEncryption', 'SSEKMSKeyId', 'BucketKeyEnabled', 'SSEKMSEncryptionContext')},
                    'range': get['Body'].read() == body[100:200], 'contentRange': get.get('ContentRange'),
                    'headHeaders': enc_headers(head)}

key = bytes(range(32))
other = bytes(range(1, 33))
put = s3.put_object(Bucket='boto3-bucket', Key='sse-c.bin', Body=body, SSECustomerAlgorithm='AES256', SSECustomerKey=key)
head = s3.head_object(Bucket='boto3-bucket', Key='sse-c.bin', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
get = s3.get_object(Bucket='boto3-bucket', Key='sse-c.bin', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
rng = s3.get_object(Bucket='boto3-bucket', Key='sse-c.bin', SSECustomerAlgorithm='AES256', SSECustomerKey=key, Range='bytes=-10')
report['sseC'] = {'put': {k: put.get(k) for k in ('ServerSideEncryption', 'SSECustomerAlgorithm', 'SSECustomerKeyMD5', 'ETag')},
                  'keyMd5': base64.b64encode(hashlib.md5(key).digest()).decode(),
                  'roundTrip': get['Body'].read() == body, 'rangeTail': rng['Body'].read() == body[-10:],
                  'get': {k: get.get(k) for k in ('SSECustomerAlgorithm', 'SSECustomerKeyMD5', 'ServerSideEncryption')},
                  'headHeaders': enc_headers(head),
                  'getWithoutKey': error_of(s3.get_object, Bucket='boto3-bucket', Key='sse-c.bin'),
                  'getWrongKey': error_of(s3.get_object, Bucket='boto3-bucket', Key='sse-c.bin', SSECustomerAlgorithm='AES256', SSECustomerKey=other),
                  'headWithoutKey': error_of(s3.head_object, Bucket='boto3-bucket', Key='sse-c.bin')}

# upload_fileobj/download_fileobj (s3transfer) with ExtraArgs, below the multipart threshold.
s3.upload_fileobj(io.BytesIO(body), 'boto3-bucket', 'transfer/kms.bin', ExtraArgs={'ServerSideEncryption': 'aws:kms', 'SSEKMSKeyId': cmk['Arn']})
s3.upload_fileobj(io.BytesIO(body), 'boto3-bucket', 'transfer/c.bin', ExtraArgs={'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': key})
out_kms, out_c = io.BytesIO(), io.BytesIO()
s3.download_fileobj('boto3-bucket', 'transfer/kms.bin', out_kms)
s3.download_fileobj('boto3-bucket', 'transfer/c.bin', out_c, ExtraArgs={'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': key})
report['transfer'] = {'kms': out_kms.getvalue() == body, 'c': out_c.getvalue() == body,
                      'kmsKey': s3.head_object(Bucket='boto3-bucket', Key='transfer/kms.bin').get('SSEKMSKeyId')}

# Multipart (s3transfer above its threshold), copies, batch delete.
from boto3.s3.transfer import TransferConfig
tc = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
big = bytes(range(256)) * (12 * 4096) + b'tail'
s3.upload_fileobj(io.BytesIO(big), 'boto3-bucket', 'mp/kms.bin', ExtraArgs={'ServerSideEncryption': 'aws:kms', 'SSEKMSKeyId': cmk['KeyId']}, Config=tc)
s3.upload_fileobj(io.BytesIO(big), 'boto3-bucket', 'mp/c.bin', ExtraArgs={'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': key}, Config=tc)
mp_kms = s3.head_object(Bucket='boto3-bucket', Key='mp/kms.bin')
mp_c = s3.head_object(Bucket='boto3-bucket', Key='mp/c.bin', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
out_mk, out_mc = io.BytesIO(), io.BytesIO()
s3.download_fileobj('boto3-bucket', 'mp/kms.bin', out_mk, Config=tc)
s3.download_fileobj('boto3-bucket', 'mp/c.bin', out_mc, ExtraArgs={'SSECustomerAlgorithm': 'AES256', 'SSECustomerKey': key}, Config=tc)
# copy_object: SSE-C source re-keyed to SSE-KMS; SSE-KMS source to SSE-C; s3transfer's managed copy (multipart UploadPartCopy).
cp1 = s3.copy_object(Bucket='boto3-bucket', Key='copies/c-to-kms.bin', CopySource={'Bucket': 'boto3-bucket', 'Key': 'sse-c.bin'},
                     CopySourceSSECustomerAlgorithm='AES256', CopySourceSSECustomerKey=key, ServerSideEncryption='aws:kms')
cp2 = s3.copy_object(Bucket='boto3-bucket', Key='copies/kms-to-c.bin', CopySource={'Bucket': 'boto3-bucket', 'Key': 'sse-kms.bin'},
                     SSECustomerAlgorithm='AES256', SSECustomerKey=other)
s3.copy({'Bucket': 'boto3-bucket', 'Key': 'mp/kms.bin'}, 'boto3-bucket', 'copies/mp-copy.bin', ExtraArgs={'ServerSideEncryption': 'AES256'}, Config=tc)
report['multipart'] = {
    'kms': {'etag': mp_kms['ETag'], 'sse': mp_kms.get('ServerSideEncryption'), 'key': mp_kms.get('SSEKMSKeyId'), 'length': mp_kms['ContentLength'], 'roundTrip': out_mk.getvalue() == big},
    'c': {'etag': mp_c['ETag'], 'md5': mp_c.get('SSECustomerKeyMD5'), 'roundTrip': out_mc.getvalue() == big},
    'copyCToKms': {'sse': cp1.get('ServerSideEncryption'), 'key': cp1.get('SSEKMSKeyId'),
                   'roundTrip': s3.get_object(Bucket='boto3-bucket', Key='copies/c-to-kms.bin')['Body'].read() == body},
    'copyKmsToC': {'alg': cp2.get('SSECustomerAlgorithm'), 'md5': cp2.get('SSECustomerKeyMD5'), 'otherMd5': base64.b64encode(hashlib.md5(other).digest()).decode(),
                   'roundTrip': s3.get_object(Bucket='boto3-bucket', Key='copies/kms-to-c.bin', SSECustomerAlgorithm='AES256', SSECustomerKey=other)['Body'].read() == body,
                   'withoutKey': error_of(s3.get_object, Bucket='boto3-bucket', Key='copies/kms-to-c.bin')},
    'managedCopy': {'sse': s3.head_object(Bucket='boto3-bucket', Key='copies/mp-copy.bin').get('ServerSideEncryption'),
                    'roundTrip': s3.get_object(Bucket='boto3-bucket', Key='copies/mp-copy.bin')['Body'].read() == big},
}
deleted = s3.delete_objects(Bucket='boto3-bucket', Delete={'Objects': [{'Key': k} for k in ('mp/kms.bin', 'mp/c.bin', 'copies/c-to-kms.bin', 'copies/kms-to-c.bin', 'copies/mp-copy.bin', 'never-existed')]})
report['deleteObjects'] = {'deleted': sorted(d['Key'] for d in deleted.get('Deleted', [])), 'errors': deleted.get('Errors', [])}

pages = []
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='boto3-bucket', PaginationConfig={'PageSize': 2}):
    pages.append([(o['Key'], o['Size']) for o in page.get('Contents', [])])
report['listPages'] = pages
v1 = s3.list_objects(Bucket='boto3-bucket', Delimiter='/')
report['listV1'] = {'keys': [o['Key'] for o in v1.get('Contents', [])], 'prefixes': [p['Prefix'] for p in v1.get('CommonPrefixes', [])]}
report['buckets'] = [b['Name'] for b in s3.list_buckets()['Buckets']]

for k in ('sse-s3.bin', 'sse-kms.bin', 'sse-cmk.bin', 'sse-c.bin', 'transfer/kms.bin', 'transfer/c.bin'):
    s3.delete_object(Bucket='boto3-bucket', Key=k)
report['afterDelete'] = s3.list_objects_v2(Bucket='boto3-bucket')['KeyCount']
report['getDeleted'] = error_of(s3.get_object, Bucket='boto3-bucket', Key='sse-s3.bin')
s3.delete_bucket(Bucket='boto3-bucket')
report['headDeletedBucket'] = error_of(s3.head_bucket, Bucket='boto3-bucket')

print(json.dumps(report))
`;

type Report = Record<string, any>;

function runScript(url: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      ['-c', SCRIPT, url, TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey, TEST_REGION],
      { env: awsClientEnv(), timeout: 120_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`boto3 scenario failed (${err.code ?? err.message}):\n${stderr}`));
        try {
          resolve(JSON.parse(stdout) as Report);
        } catch {
          reject(new Error(`boto3 scenario printed no JSON: ${stdout.slice(0, 500)}\n${stderr}`));
        }
      },
    );
  });
}

function scenario(): void {
  let server: TestServer;
  let dir: string;
  let report: Report;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-boto3-s3-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = await startServer({ tls: { certFile: cert, keyFile: key } });
    assert.match(server.url, /^https:\/\//);
    report = await runScript(server.url);
  });
  after(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SSE-S3 (the default): put answers AES256 and the MD5 ETag; get returns the bytes, type and metadata; head carries the headers', () => {
    const r = report.sseS3;
    assert.equal(r.put.ServerSideEncryption, 'AES256');
    assert.equal(r.put.SSEKMSKeyId, null);
    assert.equal(r.put.ETag, `"${r.md5}"`);
    assert.equal(r.roundTrip, true);
    assert.deepEqual(r.get, { ETag: r.put.ETag, ServerSideEncryption: 'AES256', ContentType: 'application/x-test', Metadata: { owner: 'boto3' }, ContentLength: 12 + 256 * 400 });
    assert.deepEqual(r.headHeaders, { 'x-amz-server-side-encryption': 'AES256', etag: r.put.ETag, 'content-length': String(12 + 256 * 400), 'content-type': 'application/x-test' });
  });

  it('SSE-KMS without a key id uses the AWS managed key aws/s3; head and get name it', () => {
    const r = report.sseKms;
    assert.match(r.awsS3Arn, new RegExp(`^arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/`));
    assert.equal(r.put.ServerSideEncryption, 'aws:kms');
    assert.equal(r.put.SSEKMSKeyId, r.awsS3Arn);
    assert.equal(r.roundTrip, true);
    assert.deepEqual(r.get, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: r.awsS3Arn });
    assert.equal(r.headHeaders['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(r.headHeaders['x-amz-server-side-encryption-aws-kms-key-id'], r.awsS3Arn);
  });

  it('SSE-KMS with a customer managed key, an encryption context and a bucket key; a range decrypts', () => {
    const r = report.sseCmk;
    assert.equal(r.put.ServerSideEncryption, 'aws:kms');
    assert.equal(r.put.SSEKMSKeyId, report.cmkArn);
    assert.equal(r.put.BucketKeyEnabled, true);
    assert.equal(r.range, true);
    assert.equal(r.contentRange, `bytes 100-199/${12 + 256 * 400}`);
    assert.equal(r.headHeaders['x-amz-server-side-encryption-aws-kms-key-id'], report.cmkArn);
    assert.equal(r.headHeaders['x-amz-server-side-encryption-bucket-key-enabled'], 'true');
  });

  it('SSE-C over HTTPS: put/head/get answer the algorithm and key MD5; a missing key is 400, a wrong key 403', () => {
    const r = report.sseC;
    assert.equal(r.put.SSECustomerAlgorithm, 'AES256');
    assert.equal(r.put.SSECustomerKeyMD5, r.keyMd5);
    assert.equal(r.put.ServerSideEncryption, null);
    assert.match(r.put.ETag, /^"[0-9a-f]{32}"$/);
    assert.equal(r.roundTrip, true);
    assert.equal(r.rangeTail, true);
    assert.deepEqual(r.get, { SSECustomerAlgorithm: 'AES256', SSECustomerKeyMD5: r.keyMd5, ServerSideEncryption: null });
    assert.equal(r.headHeaders['x-amz-server-side-encryption-customer-algorithm'], 'AES256');
    assert.equal(r.headHeaders['x-amz-server-side-encryption-customer-key-md5'], r.keyMd5);
    assert.equal(r.headHeaders['x-amz-server-side-encryption'], undefined);
    assert.equal(r.getWithoutKey.status, 400);
    assert.equal(r.getWithoutKey.code, 'InvalidRequest');
    assert.equal(r.getWrongKey.status, 403);
    assert.equal(r.getWrongKey.code, 'AccessDenied');
    assert.equal(r.headWithoutKey.status, 400);
    const md5 = createHash('md5').update(Buffer.from(Array.from({ length: 32 }, (_, i) => i))).digest('base64');
    assert.equal(r.keyMd5, md5);
  });

  it('upload_fileobj / download_fileobj with ExtraArgs (SSE-KMS by key ARN, SSE-C) round trip', () => {
    assert.deepEqual(report.transfer, { kms: true, c: true, kmsKey: report.cmkArn });
  });

  it('s3transfer multipart upload/download under SSE-KMS and SSE-C; copy_object across SSE-C and SSE-KMS; managed multipart copy; delete_objects', () => {
    const m = report.multipart;
    const size = 256 * 12 * 4096 + 4;
    assert.match(m.kms.etag, /^"[0-9a-f]{32}-3"$/);
    assert.deepEqual({ ...m.kms, etag: undefined }, { etag: undefined, sse: 'aws:kms', key: report.cmkArn, length: size, roundTrip: true });
    assert.match(m.c.etag, /^"[0-9a-f]{32}-3"$/);
    assert.equal(m.c.md5, report.sseC.keyMd5);
    assert.equal(m.c.roundTrip, true);
    assert.deepEqual(m.copyCToKms, { sse: 'aws:kms', key: report.sseKms.awsS3Arn, roundTrip: true });
    assert.equal(m.copyKmsToC.alg, 'AES256');
    assert.equal(m.copyKmsToC.md5, m.copyKmsToC.otherMd5);
    assert.equal(m.copyKmsToC.roundTrip, true);
    assert.equal(m.copyKmsToC.withoutKey.status, 400);
    assert.deepEqual(m.managedCopy, { sse: 'AES256', roundTrip: true });
    // S3 reports a key that never existed as deleted too.
    assert.deepEqual(report.deleteObjects, { deleted: ['copies/c-to-kms.bin', 'copies/kms-to-c.bin', 'copies/mp-copy.bin', 'mp/c.bin', 'mp/kms.bin', 'never-existed'], errors: [] });
  });

  it('list_objects_v2 pages of two, list_objects with a delimiter, list_buckets', () => {
    const size = 12 + 256 * 400;
    assert.deepEqual(report.listPages, [
      [['sse-c.bin', size], ['sse-cmk.bin', size]],
      [['sse-kms.bin', size], ['sse-s3.bin', size]],
      [['transfer/c.bin', size], ['transfer/kms.bin', size]],
    ]);
    assert.deepEqual(report.listV1, { keys: ['sse-c.bin', 'sse-cmk.bin', 'sse-kms.bin', 'sse-s3.bin'], prefixes: ['transfer/'] });
    assert.deepEqual(report.buckets, ['boto3-bucket']);
  });

  it('delete_object empties the bucket; a deleted key is NoSuchKey, a deleted bucket 404', () => {
    assert.equal(report.afterDelete, 0);
    assert.equal(report.getDeleted.code, 'NoSuchKey');
    assert.equal(report.getDeleted.status, 404);
    assert.equal(report.headDeletedBucket.status, 404);
  });
}

const problem = unavailable();
if (problem === undefined) {
  describe('S3 with boto3 over HTTPS', { concurrency: 1 }, scenario);
} else if (!process.env.CI) {
  describe('S3 with boto3 over HTTPS', () => {
    it('runs the boto3 scenario', { skip: `${problem}; skipped because CI is not set` }, () => {});
  });
} else {
  describe('S3 with boto3 over HTTPS', () => {
    it('has python3 with boto3 and openssl (CI is set, so a missing component is a failure)', () => {
      assert.fail(problem);
    });
  });
}
