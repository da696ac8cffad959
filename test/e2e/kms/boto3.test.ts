// boto3 (Python) against a real in-process Strongroom server: one Python process runs the whole scenario and prints
// a JSON report of what boto3 saw; the node tests assert on that report.
//
// A python3 without boto3 skips the suite on a developer machine; with CI set it is a failure.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { awsClientEnv } from '../../helpers/aws-env.js';
import { TEST_ACCOUNT, TEST_CREDENTIALS, TEST_REGION, TestServer, startServer } from '../../helpers/server.js';

const PYTHON = 'python3';

const pythonEnv = awsClientEnv;

/** Why boto3 cannot be used here, or undefined. */
function unavailable(): string | undefined {
  const res = spawnSync(PYTHON, ['-c', 'import boto3, botocore; print(boto3.__version__, botocore.__version__)'], { env: pythonEnv(), encoding: 'utf8', timeout: 30_000 });
  if (res.error) return `${PYTHON} cannot be run (${(res.error as NodeJS.ErrnoException).code ?? res.error.message})`;
  if (res.status !== 0) return `${PYTHON} cannot import boto3: ${res.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}

// sys.argv[1] is the endpoint URL. Everything boto3 returned or raised is reported as JSON on stdout;
// bytes are base64. Anything unexpected raises, which makes the script exit non-zero with a traceback.
const SCRIPT = String.raw`
import base64, json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, access_key, secret_key, region = sys.argv[1:5]
kms = boto3.client('kms', endpoint_url=url, region_name=region, aws_access_key_id=access_key,
                   aws_secret_access_key=secret_key, config=Config(retries={'max_attempts': 1}))
b64 = lambda b: base64.b64encode(b).decode('ascii')
report = {'boto3': boto3.__version__}

def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'message': e.response['Error'].get('Message'),
                'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'class': type(e).__name__,
                'operation': e.operation_name,
                'modeled': isinstance(e, getattr(kms.exceptions, e.response['Error']['Code'], ()))}
    return None

md = kms.create_key(Description='boto3 key', Tags=[{'TagKey': 'client', 'TagValue': 'boto3'}])['KeyMetadata']
report['created'] = {k: (v.timestamp() if k == 'CreationDate' else v) for k, v in md.items()}
key_id = md['KeyId']
report['tags'] = kms.list_resource_tags(KeyId=key_id)['Tags']

secret = bytes(range(256)) * 4
ctx = {'dept': 'hr', 'purpose': 'boto3 e2e'}
enc = kms.encrypt(KeyId=key_id, Plaintext=secret, EncryptionContext=ctx)
report['encrypt'] = {'KeyId': enc['KeyId'], 'EncryptionAlgorithm': enc['EncryptionAlgorithm'],
                     'CiphertextBlobType': type(enc['CiphertextBlob']).__name__}
dec = kms.decrypt(CiphertextBlob=enc['CiphertextBlob'], EncryptionContext=dict(reversed(list(ctx.items()))))
report['decrypt'] = {'KeyId': dec['KeyId'], 'EncryptionAlgorithm': dec['EncryptionAlgorithm'],
                     'PlaintextType': type(dec['Plaintext']).__name__, 'roundTrip': dec['Plaintext'] == secret}
report['decryptWrongContext'] = error_of(kms.decrypt, CiphertextBlob=enc['CiphertextBlob'], EncryptionContext={'dept': 'finance', 'purpose': 'boto3 e2e'})
report['decryptNoContext'] = error_of(kms.decrypt, CiphertextBlob=enc['CiphertextBlob'])

dk = kms.generate_data_key(KeyId=key_id, KeySpec='AES_256', EncryptionContext={'file': 'a.bin'})
dk_dec = kms.decrypt(CiphertextBlob=dk['CiphertextBlob'], EncryptionContext={'file': 'a.bin'})
report['dataKey'] = {'KeyId': dk['KeyId'], 'plaintextLength': len(dk['Plaintext']),
                     'decryptsToSameKey': dk_dec['Plaintext'] == dk['Plaintext']}

for i in range(6):
    kms.create_key(Description='boto3 pagination %d' % i)

pages = []
for page in kms.get_paginator('list_keys').paginate(PaginationConfig={'PageSize': 3}):
    pages.append({'keys': [k['KeyId'] for k in page['Keys']], 'arns': [k['KeyArn'] for k in page['Keys']],
                  'truncated': page.get('Truncated'), 'hasNextMarker': 'NextMarker' in page})
report['listKeysPages'] = pages

# The same walk by hand: Limit=3, Marker=NextMarker until Truncated is false.
manual, marker = [], None
while True:
    resp = kms.list_keys(Limit=3, **({'Marker': marker} if marker else {}))
    manual.append({'count': len(resp['Keys']), 'truncated': resp['Truncated'], 'nextMarker': resp.get('NextMarker')})
    if not resp['Truncated']:
        break
    marker = resp['NextMarker']
report['listKeysManual'] = manual
report['listKeysBadMarker'] = error_of(kms.list_keys, Limit=3, Marker='not-a-marker')

report['describeMissingAlias'] = error_of(kms.describe_key, KeyId='alias/nope')
report['describeMissingKey'] = error_of(kms.describe_key, KeyId='11111111-2222-3333-4444-555555555555')
try:
    kms.describe_key(KeyId='alias/nope')
    report['caughtModeledNotFound'] = False
except kms.exceptions.NotFoundException:
    report['caughtModeledNotFound'] = True

print(json.dumps(report))
`;

interface BotoError {
  code: string;
  message: string | null;
  status: number;
  class: string;
  operation: string;
  modeled: boolean;
}

interface Report {
  boto3: string;
  created: Record<string, unknown>;
  tags: { TagKey: string; TagValue: string }[];
  encrypt: { KeyId: string; EncryptionAlgorithm: string; CiphertextBlobType: string };
  decrypt: { KeyId: string; EncryptionAlgorithm: string; PlaintextType: string; roundTrip: boolean };
  decryptWrongContext: BotoError | null;
  decryptNoContext: BotoError | null;
  dataKey: { KeyId: string; plaintextLength: number; decryptsToSameKey: boolean };
  listKeysPages: { keys: string[]; arns: string[]; truncated: boolean | null; hasNextMarker: boolean }[];
  listKeysManual: { count: number; truncated: boolean; nextMarker: string | null }[];
  listKeysBadMarker: BotoError | null;
  describeMissingAlias: BotoError | null;
  describeMissingKey: BotoError | null;
  caughtModeledNotFound: boolean;
}

function runScript(url: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      ['-c', SCRIPT, url, TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey, TEST_REGION],
      { env: pythonEnv(), timeout: 50_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`the boto3 script failed (${err.code ?? err.message}):\n${stderr}`));
        try {
          resolve(JSON.parse(stdout) as Report);
        } catch (e) {
          reject(new Error(`the boto3 script printed no JSON: ${String(e)}\nstdout=${stdout}\nstderr=${stderr}`));
        }
      },
    );
  });
}

function assertClientError(err: BotoError | null, code: string, operation: string): BotoError {
  assert.ok(err, `expected ${operation} to raise ClientError ${code}`);
  assert.equal(err.code, code);
  assert.equal(err.operation, operation);
  assert.equal(err.status, 400);
  // boto3 maps the __type of the response onto the modeled exception class of the KMS client.
  assert.equal(err.class, code);
  assert.equal(err.modeled, true);
  return err;
}

const problem = unavailable();

function suite(): void {
  let server: TestServer;
  let report: Report;
  let keyArn: string;

  before(async () => {
    server = await startServer();
    report = await runScript(server.url);
    keyArn = report.created.Arn as string;
  });
  after(() => server.destroy());

  it('create_key returns KeyMetadata that boto3 parses, CreationDate as a datetime', () => {
    const md = report.created;
    assert.match(md.KeyId as string, /^[0-9a-f-]{36}$/);
    assert.equal(md.Arn, `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/${md.KeyId as string}`);
    assert.equal(md.AWSAccountId, TEST_ACCOUNT);
    assert.equal(md.Description, 'boto3 key');
    assert.equal(md.KeyState, 'Enabled');
    assert.equal(md.Enabled, true);
    assert.equal(md.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(md.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(typeof md.CreationDate, 'number');
    assert.ok(Math.abs((md.CreationDate as number) * 1000 - Date.now()) < 5 * 60_000, 'CreationDate is about now');
  });

  it('create_key Tags are stored on the key and come back from list_resource_tags', () => {
    assert.deepEqual(report.tags, [{ TagKey: 'client', TagValue: 'boto3' }]);
  });

  it('encrypt/decrypt with an encryption context round-trips 1 KiB of every byte value, returning bytes and the key ARN', () => {
    assert.deepEqual(report.encrypt, { KeyId: keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', CiphertextBlobType: 'bytes' });
    assert.deepEqual(report.decrypt, { KeyId: keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', PlaintextType: 'bytes', roundTrip: true });
  });

  it('decrypt with a different or missing encryption context raises ClientError InvalidCiphertextException', () => {
    assertClientError(report.decryptWrongContext, 'InvalidCiphertextException', 'Decrypt');
    assertClientError(report.decryptNoContext, 'InvalidCiphertextException', 'Decrypt');
  });

  it('generate_data_key AES_256 gives a 32-byte key whose CiphertextBlob decrypts to it', () => {
    assert.deepEqual(report.dataKey, { KeyId: keyArn, plaintextLength: 32, decryptsToSameKey: true });
  });

  it('the list_keys paginator walks 7 keys in pages of 3, 3, 1 via Marker/NextMarker/Truncated', () => {
    const pages = report.listKeysPages;
    assert.deepEqual(pages.map((p) => p.keys.length), [3, 3, 1]);
    assert.deepEqual(pages.map((p) => p.truncated), [true, true, false]);
    assert.deepEqual(pages.map((p) => p.hasNextMarker), [true, true, false]);
    const ids = pages.flatMap((p) => p.keys);
    assert.equal(new Set(ids).size, 7, `no key is listed twice: ${ids.join(', ')}`);
    assert.ok(ids.includes(report.created.KeyId as string));
    for (const p of pages) {
      assert.deepEqual(p.arns, p.keys.map((id) => `arn:aws:kms:${TEST_REGION}:${TEST_ACCOUNT}:key/${id}`));
    }
  });

  it('list_keys by hand with Limit=3 returns NextMarker exactly while Truncated is true', () => {
    assert.deepEqual(report.listKeysManual.map(({ count, truncated }) => ({ count, truncated })), [
      { count: 3, truncated: true }, { count: 3, truncated: true }, { count: 1, truncated: false },
    ]);
    const markers = report.listKeysManual.map((p) => p.nextMarker);
    assert.equal(typeof markers[0], 'string');
    assert.equal(typeof markers[1], 'string');
    assert.notEqual(markers[0], markers[1]);
    assert.equal(markers[2], null);
  });

  it('list_keys with a Marker it never issued raises InvalidMarkerException', () => {
    assertClientError(report.listKeysBadMarker, 'InvalidMarkerException', 'ListKeys');
  });

  it('describe_key of a missing alias or key raises NotFoundException, catchable as kms.exceptions.NotFoundException', () => {
    const alias = assertClientError(report.describeMissingAlias, 'NotFoundException', 'DescribeKey');
    assert.match(alias.message ?? '', /alias\/nope/);
    const key = assertClientError(report.describeMissingKey, 'NotFoundException', 'DescribeKey');
    assert.match(key.message ?? '', /11111111-2222-3333-4444-555555555555/);
    assert.equal(report.caughtModeledNotFound, true);
  });
}

if (problem === undefined) {
  describe('KMS with boto3', suite);
} else if (!process.env.CI) {
  describe('KMS with boto3', () => {
    it('runs the boto3 scenario', { skip: `${problem}; skipped because CI is not set` }, () => {});
  });
} else {
  describe('KMS with boto3', () => {
    it('has python3 with boto3 (CI is set, so a missing component is a failure)', () => {
      assert.fail(problem);
    });
  });
}
