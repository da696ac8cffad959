/**
 * URI encoding as SigV4 defines it: every byte except the unreserved characters A–Z a–z 0–9 - _ . ~ is
 * percent-encoded with upper-case hex; '/' too unless `keepSlash`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
 */
const UNRESERVED = /[A-Za-z0-9\-_.~]/;

export function uriEncode(value: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(ch) || (keepSlash && ch === '/'))) out += ch;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Percent-decoding that never throws: malformed escapes are kept as they are. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}
