import { ServiceModel } from '../shapes.js';

/**
 * The shape of POST /_strongroom/explain's body, in botocore's form so that the ShapeCodec validates it with
 * AWS's ValidationException wording and the audit record shows its members (requestParameters).
 */
export const EXPLAIN_MODEL: ServiceModel<{ readonly name: string }> = {
  metadata: { name: 'strongroom-explain' },
  operations: { Explain: { input: 'ExplainRequest', output: null, errors: [] } },
  shapes: {
    ExplainRequest: {
      type: 'structure',
      required: ['principal', 'action', 'key'],
      members: {
        principal: { shape: 'Arn' },
        action: { shape: 'Action' },
        key: { shape: 'KeyRef' },
        context: { shape: 'EncryptionContext' },
        sourceIp: { shape: 'SourceIp' },
        userAgent: { shape: 'UserAgent' },
        secureTransport: { shape: 'Boolean' },
        viaService: { shape: 'ViaService' },
      },
    },
    Arn: { type: 'string', min: 20, max: 2048 },
    Action: { type: 'string', min: 5, max: 128, pattern: 'kms:[A-Za-z]+' },
    KeyRef: { type: 'string', min: 1, max: 2048 },
    EncryptionContext: { type: 'map', key: { shape: 'ContextString' }, value: { shape: 'ContextString' } },
    ContextString: { type: 'string', max: 8192 },
    SourceIp: { type: 'string', min: 2, max: 64, pattern: '[0-9A-Fa-f:.]+' },
    UserAgent: { type: 'string', max: 1024 },
    Boolean: { type: 'boolean' },
    ViaService: { type: 'string', min: 1, max: 128, pattern: 'none|[a-z0-9-]+\\.[a-z0-9-]+\\.amazonaws\\.com' },
  },
};
