import { execFile, spawnSync } from 'node:child_process';
import { awsClientEnv } from './aws-env.js';
import { TEST_CREDENTIALS, TEST_REGION } from './server.js';

/** Why boto3 cannot be used here (the suite is skipped on a developer machine; with CI set it fails), or undefined. */
export function boto3Unavailable(): string | false {
  const res = spawnSync('python3', ['-c', 'import boto3'], { env: awsClientEnv(), encoding: 'utf8', timeout: 30_000 });
  const why = res.error ? `python3 cannot be run (${res.error.message})` : res.status !== 0 ? 'python3 cannot import boto3' : undefined;
  if (why && process.env.CI) throw new Error(why);
  return why ?? false;
}

/**
 * Python: `error_of(call, **kw)`, the ClientError a boto3 call raises as {code, message, status} (BotoError), or
 * None if it succeeds. Needs `from botocore.exceptions import ClientError`.
 */
export const PY_ERROR_OF = String.raw`def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'message': e.response['Error'].get('Message'),
                'status': e.response['ResponseMetadata']['HTTPStatusCode']}
    return None
`;

/**
 * What every scenario starts with: `client(service, region=…, creds=None)`, `error_of(call, **kw)` (the
 * ClientError's code, message and status, or None), `out` (a dict printed as JSON at the end), `args` (the
 * JSON object given). Datetimes print as ISO strings.
 */
const PRELUDE = String.raw`
import json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
url, access_key, secret_key, default_region = sys.argv[1:5]
args = json.loads(sys.argv[5])
def client(service, region=None, creds=None):
    ak, sk = creds if creds else (access_key, secret_key)
    return boto3.client(service, endpoint_url=url, region_name=region or default_region, aws_access_key_id=ak,
                        aws_secret_access_key=sk, config=Config(retries={'max_attempts': 1}))
${PY_ERROR_OF}
out = {}
`;

export interface BotoError {
  code: string;
  message: string | null;
  status: number;
}

/** Runs `scenario` (Python, after PRELUDE) against `url` as the test root and resolves to its `out` dict. */
export function runBoto3<T = Record<string, any>>(url: string, scenario: string, args: Record<string, unknown> = {}, region = TEST_REGION): Promise<T> {
  const script = `${PRELUDE}\n${scenario}\nprint(json.dumps(out, default=str))\n`;
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      ['-c', script, url, TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey, region, JSON.stringify(args)],
      { env: awsClientEnv(), timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`boto3 scenario failed: ${stderr}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
        } catch {
          reject(new Error(`boto3 printed no JSON: ${stdout} ${stderr}`));
        }
      },
    );
  });
}
