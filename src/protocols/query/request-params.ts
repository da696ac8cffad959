/**
 * The parameters of an AWS Query request: the form-encoded body of a POST
 * (`Content-Type: application/x-www-form-urlencoded`), and the query string of a GET or a presigned
 * request. SigV4's own query parameters (X-Amz-*) are not operation input. A name given twice keeps its
 * first value.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/iam-api.pdf ("Making Query Requests")
 */
export function queryParams(rawQuery: string, body: Buffer | undefined): Map<string, string> {
  const params = new Map<string, string>();
  const add = (text: string) => {
    for (const [k, v] of new URLSearchParams(text)) {
      if (k.startsWith('X-Amz-') || params.has(k)) continue;
      params.set(k, v);
    }
  };
  if (body !== undefined && body.length > 0) add(body.toString('utf8'));
  if (rawQuery !== '') add(rawQuery);
  return params;
}

export function isFormContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

const SCOPE_IN_HEADER = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/;
const SCOPE_IN_QUERY = /(?:^|&)X-Amz-Credential=[^&]*?(?:%2F|\/)\d{8}(?:%2F|\/)[^&%/]+(?:%2F|\/)([^&%/]+)(?:%2F|\/)aws4_request/i;

/** The service named by the request's SigV4 credential scope (header or presigned form), if it is signed. */
export function scopeService(authorization: string | undefined, rawQuery: string): string | undefined {
  if (authorization !== undefined) return SCOPE_IN_HEADER.exec(authorization)?.[1] ?? '';
  if (rawQuery.includes('X-Amz-Credential=')) return SCOPE_IN_QUERY.exec(rawQuery)?.[1] ?? '';
  return undefined;
}
