import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { AwsError } from '../../core/errors/aws-error.js';
import { S3Errors } from '../../core/errors/s3.js';

/** S3's XML namespace (every response document's root carries it). */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, format: false, processEntities: true });
const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // Character references (&#34; &#x22;) are XML 1.0 (§4.1) and Go's encoding/xml writes every quote as &#34;:
  // aws-sdk-go and rclone send <ETag>&#34;…&#34;</ETag> in CompleteMultipartUpload. The parser decodes them
  // only with htmlEntities, which also accepts HTML's named entities (lenient, never ambiguous).
  htmlEntities: true,
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});
/** Elements that may repeat in the request documents S3 accepts. */
const ARRAY_ELEMENTS = new Set(['Object', 'Part', 'Rule', 'EncryptionType', 'Statement']);

export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [name: string]: XmlValue };

/** A response document: `<Root xmlns="…">…</Root>`; undefined members are left out, arrays repeat their element. */
export function xmlDocument(root: string, body: Record<string, XmlValue>, namespace = true): string {
  return DECLARATION + builder.build({ [root]: { ...(namespace ? { '@_xmlns': S3_XMLNS } : {}), ...clean(body) } });
}

/**
 * A response document whose children must keep an order the member-grouped form cannot express
 * (ListVersionsResult interleaves <Version> and <DeleteMarker> in key order; DeleteResult keeps request order).
 */
export function xmlOrderedDocument(root: string, children: readonly (readonly [string, XmlValue])[]): string {
  const inner = children.map(([name, value]) => (value === undefined ? '' : builder.build(clean({ [name]: value })))).join('');
  return `${DECLARATION}<${root} xmlns="${S3_XMLNS}">${inner}</${root}>`;
}

function clean(v: Record<string, XmlValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    if (Array.isArray(x)) out[k] = x.map((e) => (e !== null && typeof e === 'object' && !Array.isArray(e) ? clean(e) : String(e)));
    else if (x !== null && typeof x === 'object') out[k] = clean(x);
    else out[k] = String(x);
  }
  return out;
}

/**
 * Parses a request document; anything that is not well-formed XML with `root` as its root is MalformedXML.
 * Every S3 request document goes through here, and the bytes must mean one thing only:
 * - invalid UTF-8 is refused, never replaced by U+FFFD (a DeleteObjects must not delete another key than sent);
 * - a DOCTYPE (or any other markup declaration) is refused: S3's schemas have none, and an internal DTD
 *   would define entities the parser expands (XML 1.0 §2.8, §4.2) — the same bytes naming another key;
 * - entity references are XML's five predefined ones and character references to XML characters only
 *   (XML 1.0 §4.1, §2.2): the parser's lenient HTML names (&nbsp;) are not XML.
 */
export function parseXmlDocument(body: Buffer, root: string): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    const text = strictUtf8.decode(body);
    if (!/^\s*(<\?xml[^>]*\?>\s*)?</.test(text)) throw new Error('not XML');
    checkMarkup(text);
    doc = parser.parse(text, true) as Record<string, unknown>;
  } catch {
    throw malformed();
  }
  const value = doc[root];
  if (value === undefined || value === null || typeof value !== 'object') {
    if (value === '') return {};
    throw malformed();
  }
  return value as Record<string, unknown>;
}

/** UTF-8 that throws on any invalid sequence (a leading BOM is dropped, as XML 1.0 §4.3.3 allows). */
export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Throws on a markup declaration (`<!DOCTYPE`, `<!ENTITY`, …) or an entity reference XML does not predefine,
 * outside comments and CDATA sections (whose content is not markup).
 */
function checkMarkup(text: string): void {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x3c /* < */ && text.startsWith('<!', i)) {
      if (text.startsWith('<!--', i)) i = skipPast(text, '-->', i + 4);
      else if (text.startsWith('<![CDATA[', i)) i = skipPast(text, ']]>', i + 9);
      else throw new Error('markup declaration');
      continue;
    }
    if (c === 0x26 /* & */) {
      const m = /^&(?:(lt|gt|amp|apos|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/.exec(text.slice(i, i + 12));
      if (!m) throw new Error('entity reference');
      if (m[1] === undefined && !isXmlChar(m[2] !== undefined ? Number(m[2]) : parseInt(m[3]!, 16))) throw new Error('character reference');
      i += m[0].length;
      continue;
    }
    i++;
  }
}

function skipPast(text: string, end: string, from: number): number {
  const at = text.indexOf(end, from);
  if (at < 0) throw new Error('unterminated');
  return at + end.length;
}

/** XML 1.0 §2.2 Char. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

export function malformed(): AwsError {
  return new AwsError(S3Errors.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
}

/** S3's timestamps in XML: ISO 8601 with milliseconds. */
export const xmlTime = (ms: number): string => new Date(ms).toISOString();
/** S3's timestamps in headers (Last-Modified): RFC 7231 IMF-fixdate. */
export const httpTime = (ms: number): string => new Date(ms).toUTCString();
