import { needs } from '../../errors/aws-error.js';
import { CommonErrors } from '../../errors/common.js';
import { KmsErrors } from '../../errors/kms.js';
import { KeyRecord, KeyUsage } from '../../../store/metadata/types.js';
import { ECC_SPECS } from './ecc.js';
import { HMAC_SPECS } from './hmac.js';
import { Algorithms, KeySpecRules } from './key-spec.js';
import { ML_DSA_SPECS } from './ml-dsa.js';
import { ML_KEM_SPECS } from './ml-kem.js';
import { RSA_SPECS } from './rsa.js';
import { SYMMETRIC_SPECS } from './symmetric.js';

export type { Algorithms, KeySpecRules } from './key-spec.js';

const RULES: ReadonlyMap<string, KeySpecRules> = new Map(
  [...SYMMETRIC_SPECS, ...RSA_SPECS, ...ECC_SPECS, ...HMAC_SPECS, ...ML_DSA_SPECS, ...ML_KEM_SPECS].map((r) => [r.spec, r]),
);

/** The KeySpecs of the model Strongroom cannot make: SM2 exists in AWS's China Regions only. */
const NOT_YET = new Set(['SM2']);

/** The deprecated CustomerMasterKeySpec enum of the model: the KeySpecs that existed before KeySpec did. */
const CUSTOMER_MASTER_KEY_SPECS = new Set([
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2',
]);

/** The rules of a stored key's spec (every stored key has one of the served specs). */
export function rulesOf(key: Pick<KeyRecord, 'keySpec'>): KeySpecRules {
  const rules = RULES.get(key.keySpec);
  if (!rules) throw new Error(`no rules for key spec ${key.keySpec}`);
  return rules;
}

/** The algorithms a key of this spec and usage has (DescribeKey's *Algorithms members). */
export function algorithmsOf(key: Pick<KeyRecord, 'keySpec' | 'keyUsage'>): Algorithms {
  return rulesOf(key).usages[key.keyUsage] ?? {};
}

/** CustomerMasterKeySpec (deprecated) as DescribeKey shows it: only for specs of its enum. */
export function customerMasterKeySpecOf(key: Pick<KeyRecord, 'keySpec'>): string | undefined {
  return CUSTOMER_MASTER_KEY_SPECS.has(key.keySpec) ? key.keySpec : undefined;
}

/**
 * CreateKey's KeySpec / CustomerMasterKeySpec / KeyUsage, checked as AWS checks them: one spec at most, the
 * usage allowed for the spec (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html#KMS-CreateKey-request-KeyUsage),
 * and a usage named for every spec but SYMMETRIC_DEFAULT.
 */
export function chooseKeySpec(input: { KeySpec?: string; CustomerMasterKeySpec?: string; KeyUsage?: string }): {
  rules: KeySpecRules;
  usage: KeyUsage;
} {
  needs(
    input.KeySpec === undefined || input.CustomerMasterKeySpec === undefined,
    CommonErrors.ValidationException,
    'You cannot specify both KeySpec and CustomerMasterKeySpec. CustomerMasterKeySpec is deprecated; use KeySpec.',
  );
  const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
  needs(!NOT_YET.has(spec), KmsErrors.UnsupportedOperationException, `KeySpec ${spec} is not supported yet.`);
  const rules = RULES.get(spec);
  // The model's enum already refused anything else; this is a guard.
  needs(rules !== undefined, CommonErrors.ValidationException, `KeySpec ${spec} is not valid.`);
  const usage = (input.KeyUsage ?? rules.defaultUsage) as KeyUsage | undefined;
  needs(
    usage !== undefined,
    CommonErrors.ValidationException,
    `You must specify a KeyUsage value for a KMS key with KeySpec ${spec}. Valid values: ${Object.keys(rules.usages).join(', ')}.`,
  );
  needs(
    rules.usages[usage] !== undefined,
    CommonErrors.ValidationException,
    `KeyUsage ${usage} is not compatible with KeySpec ${spec}. Valid values: ${Object.keys(rules.usages).join(', ')}.`,
  );
  return { rules, usage };
}
