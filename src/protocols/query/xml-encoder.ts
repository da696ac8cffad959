import { SecretBytes } from '../../core/crypto/secret-bytes.js';
import { QueryServiceModel } from './query-model.js';

/**
 * Serializes an operation's output by its botocore shape into the element tree fast-xml-parser's
 * XMLBuilder writes, as the Query protocol answers: members by their wire names in model order, lists as
 * `<Name><member>…</member></Name>` (repeated `<Name>` when flattened), maps as
 * `<entry><key/><value/></entry>`, timestamps ISO 8601, booleans `true`/`false`, blobs base64.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#response-serialization
 */
export type XmlNode = string | XmlNode[] | { [name: string]: XmlNode };

export function encodeXml(model: QueryServiceModel, shapeName: string, value: unknown, path = shapeName): XmlNode {
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`no shape ${shapeName} in the model`);
  switch (shape.type) {
    case 'structure': {
      const obj = value as Record<string, unknown>;
      for (const name of Object.keys(obj)) {
        if (!shape.members?.[name]) throw new Error(`${path}.${name} is not a member of ${shapeName}`);
      }
      const out: Record<string, XmlNode> = {};
      for (const [name, ref] of Object.entries(shape.members ?? {})) {
        const v = obj[name];
        if (v === undefined || v === null) continue;
        const member = model.shapes[ref.shape]!;
        const wire = ref.locationName ?? name;
        if (member.type === 'list' && member.flattened) {
          out[wire] = (v as unknown[]).map((item, i) => encodeXml(model, member.member!.shape, item, `${path}.${name}[${i}]`));
        } else {
          out[wire] = encodeXml(model, ref.shape, v, `${path}.${name}`);
        }
      }
      return out;
    }
    case 'list': {
      const items = (value as unknown[]).map((item, i) => encodeXml(model, shape.member!.shape, item, `${path}[${i}]`));
      return items.length === 0 ? '' : { [shape.member!.locationName ?? 'member']: items };
    }
    case 'map': {
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => ({
        [shape.key!.locationName ?? 'key']: xmlText(k),
        [shape.value!.locationName ?? 'value']: encodeXml(model, shape.value!.shape, v, `${path}.${k}`),
      }));
      return entries.length === 0 ? '' : { entry: entries };
    }
    case 'timestamp': {
      const ms = value instanceof Date ? value.getTime() : Number(value);
      return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'boolean':
      return value ? 'true' : 'false';
    case 'blob':
      return (value instanceof SecretBytes ? value.reveal() : (value as Buffer)).toString('base64');
    case 'integer':
    case 'long':
    case 'double':
    case 'float':
      return String(value);
    default:
      return xmlText(String(value));
  }
}

/** Characters XML 1.0 cannot carry (control characters, lone surrogates) become U+FFFD. */
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD');
}
