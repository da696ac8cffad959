import { ServiceModel, Shape } from '../../services/shapes.js';

/**
 * A botocore model of an AWS Query service (IAM, STS), as scripts/gen-model.py vendors it: the JSON
 * model's shapes plus what the Query protocol needs — the XML namespace of answers, each operation's
 * result wrapper element, and the wire names (`locationName`) and `flattened` lists of shapes.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
export interface QueryMetadata {
  readonly apiVersion: string;
  readonly protocol: 'query';
  readonly signingName: string;
  readonly xmlNamespace: string;
}

export interface QueryShape extends Shape {
  members?: Record<string, { shape: string; locationName?: string; deprecated?: boolean }>;
  member?: { shape: string; locationName?: string };
  key?: { shape: string; locationName?: string };
  value?: { shape: string; locationName?: string };
  flattened?: boolean;
  /** For exception shapes: the wire code and status. */
  error?: { code: string; httpStatusCode: number; senderFault?: boolean };
}

export interface QueryOperationModel {
  readonly input: string | null;
  readonly output: string | null;
  /** The element that wraps the output members, e.g. `CreateUserResult`. */
  readonly resultWrapper: string | null;
  readonly errors: readonly string[];
}

export interface QueryServiceModel extends Omit<ServiceModel<QueryMetadata>, 'operations' | 'shapes'> {
  readonly operations: Record<string, QueryOperationModel>;
  readonly shapes: Record<string, QueryShape>;
}
