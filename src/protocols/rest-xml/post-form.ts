import { Busboy } from '@fastify/busboy';
import { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';
import { requestTimeout } from './request-body.js';

/** The form fields of a POST Object upload are at most 20 KB (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html). */
const MAX_FIELDS_BYTES = 20 * 1024;

export interface PostForm {
  /** Fields by lower-case name (S3 treats field names case-insensitively), values as sent. */
  readonly fields: ReadonlyMap<string, string>;
  /** The file's bytes (the `file` field must be the form's last field). */
  readonly file: Readable;
  readonly filename: string;
}

/**
 * Reads a multipart/form-data POST up to its `file` field and hands the file over as a stream (it is
 * never buffered whole). Fields after the file are ignored, as S3 ignores them.
 */
export function readPostForm(req: IncomingMessage, idleMs: number): Promise<PostForm> {
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    let size = 0;
    let done = false;
    // The fields are read before the policy's signature can be checked: a form that stalls is cut off, and
    // so is its file (failed with RequestTimeout) if it stalls while being read.
    let file: Readable | undefined;
    const idle = setTimeout(function check() {
      if (file === undefined) return fail(requestTimeout());
      if (req.isPaused()) return void idle.refresh();
      file.destroy(requestTimeout());
    }, idleMs);
    const onData = () => idle.refresh();
    req.on('data', onData);
    const settle = () => {
      clearTimeout(idle);
      req.off('data', onData);
    };
    req.once('end', settle);
    req.once('close', settle);
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      settle();
      req.unpipe();
      reject(err instanceof AwsError ? err : new AwsError(S3Errors.MalformedPOSTRequest, 'The body of your POST request is not well-formed multipart/form-data.'));
    };
    let parser;
    try {
      parser = Busboy({ headers: req.headers as { 'content-type': string }, limits: { fieldSize: MAX_FIELDS_BYTES, files: 1, fields: 100 } });
    } catch (err) {
      fail(err);
      return;
    }
    parser.on('field', (name, value) => {
      size += name.length + value.length;
      if (size > MAX_FIELDS_BYTES) fail(new AwsError(S3Errors.MaxMessageLengthExceeded, 'Your POST form fields are larger than 20 KB.'));
      fields.set(name.toLowerCase(), value);
    });
    parser.on('file', (name, stream, filename) => {
      if (done) {
        stream.resume();
        return;
      }
      if (name.toLowerCase() !== 'file') {
        stream.resume();
        return;
      }
      done = true;
      file = stream;
      stream.once('close', settle);
      resolve({ fields, file: stream, filename: filename ?? '' });
    });
    parser.on('finish', () => fail(new AwsError(S3Errors.InvalidArgument, 'POST requires exactly one file upload per request.')));
    parser.on('error', fail);
    req.on('error', fail);
    req.pipe(parser);
  });
}
