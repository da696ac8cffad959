/**
 * Which S3 operation a REST request is: method, whether it names a bucket and a key, and its
 * sub-resource query parameters (the REST bindings of the S3 API reference / botocore's `requestUri`s).
 * Returns undefined for requests S3 would not recognise here (answered NotImplemented / MethodNotAllowed).
 */
export function routeS3(method: string, bucket: string | undefined, key: string | undefined, query: URLSearchParams, headers: { 'content-type'?: string | undefined; 'x-amz-copy-source'?: string | string[] | undefined }): string | undefined {
  const has = (p: string) => query.has(p);
  if (bucket === undefined) return method === 'GET' ? 'ListBuckets' : undefined;
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        if (has('encryption')) return 'PutBucketEncryption';
        if (has('policy')) return 'PutBucketPolicy';
        if (has('versioning')) return 'PutBucketVersioning';
        return isSubresourceRequest(query) ? undefined : 'CreateBucket';
      case 'GET':
        if (has('encryption')) return 'GetBucketEncryption';
        if (has('policy')) return 'GetBucketPolicy';
        if (has('versioning')) return 'GetBucketVersioning';
        if (has('location')) return 'GetBucketLocation';
        if (has('uploads')) return 'ListMultipartUploads';
        if (has('versions')) return 'ListObjectVersions';
        if (query.get('list-type') === '2') return 'ListObjectsV2';
        return isSubresourceRequest(query) ? undefined : 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'DELETE':
        if (has('encryption')) return 'DeleteBucketEncryption';
        if (has('policy')) return 'DeleteBucketPolicy';
        return isSubresourceRequest(query) ? undefined : 'DeleteBucket';
      case 'POST':
        if (has('delete')) return 'DeleteObjects';
        if ((headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) return 'PostObject';
        return undefined;
      default:
        return undefined;
    }
  }
  switch (method) {
    case 'PUT':
      if (has('partNumber') && has('uploadId')) return headers['x-amz-copy-source'] !== undefined ? 'UploadPartCopy' : 'UploadPart';
      if (headers['x-amz-copy-source'] !== undefined) return 'CopyObject';
      return isSubresourceRequest(query) ? undefined : 'PutObject';
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      if (has('tagging')) return 'GetObjectTagging';
      if (has('attributes')) return 'GetObjectAttributes';
      return isSubresourceRequest(query) ? undefined : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      if (has('uploadId')) return 'AbortMultipartUpload';
      return 'DeleteObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Sub-resources this server does not implement (acl, tagging, lifecycle, cors, …): a request for one must
 * not be mistaken for the plain bucket/object operation (a PUT ?acl must never create a bucket).
 */
const KNOWN_PARAMS = new Set([
  'versionId', 'uploadId', 'partNumber', 'prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type', 'list-type',
  'continuation-token', 'start-after', 'fetch-owner', 'key-marker', 'version-id-marker', 'upload-id-marker', 'max-uploads',
  'max-parts', 'part-number-marker', 'x-id', 'response-content-type', 'response-content-language', 'response-expires',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'max-buckets', 'bucket-region',
]);

function isSubresourceRequest(query: URLSearchParams): boolean {
  for (const name of query.keys()) {
    if (name.startsWith('X-Amz-') || name.startsWith('x-amz-')) continue;
    if (!KNOWN_PARAMS.has(name)) return true;
  }
  return false;
}
