import { SecretBytes } from '../../crypto/secret-bytes.js';
import { KeyWrapper } from '../../crypto/root-of-trust/root-of-trust.js';

/**
 * The ImportToken of GetParametersForImport: what the parameters were (their id, the wrapping algorithm and
 * key spec, when they stop being valid) sealed by the root of trust with the key's ARN as associated data.
 * A token that was changed, or made for another key, does not open (InvalidImportTokenException); its id must
 * still be the key's latest parameters' (a newer GetParametersForImport replaces them); its time bounds it.
 */
export interface ImportTokenContents {
  readonly tokenId: string;
  readonly wrappingAlgorithm: string;
  readonly wrappingKeySpec: string;
  readonly validTo: number;
}

const PREFIX = Buffer.from('SRIT1', 'ascii');

function aad(keyArn: string): Buffer {
  return Buffer.from(`strongroom:kms-import-token:v1\0${keyArn}`, 'utf8');
}

export async function sealImportToken(root: KeyWrapper, keyArn: string, c: ImportTokenContents): Promise<Buffer> {
  const body = Buffer.from(JSON.stringify([c.tokenId, c.wrappingAlgorithm, c.wrappingKeySpec, c.validTo]), 'utf8');
  return Buffer.concat([PREFIX, await root.wrap(SecretBytes.adopt(body), aad(keyArn))]);
}

/** The token's contents, or undefined when it is not a token this server made for this key. */
export async function openImportToken(root: KeyWrapper, keyArn: string, token: Buffer): Promise<ImportTokenContents | undefined> {
  if (token.length <= PREFIX.length || !token.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  try {
    const body = await root.unwrap(token.subarray(PREFIX.length), aad(keyArn));
    const [tokenId, wrappingAlgorithm, wrappingKeySpec, validTo] = JSON.parse(body.reveal().toString('utf8')) as [string, string, string, number];
    if (typeof tokenId !== 'string' || typeof validTo !== 'number') return undefined;
    return { tokenId, wrappingAlgorithm, wrappingKeySpec, validTo };
  } catch {
    return undefined;
  }
}
