import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient } from '@aws-sdk/client-sts';
import { TEST_CREDENTIALS, TEST_REGION, TestServer } from './server.js';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The SDK's own clients for IAM, STS and KMS against a test server, as any caller: destroy() closes them all. */
export class Clients {
  readonly #made: { destroy(): void }[] = [];

  constructor(private readonly server: TestServer) {}

  iam(credentials: Credentials = TEST_CREDENTIALS): IAMClient {
    return this.#track(new IAMClient({ endpoint: this.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
  }

  sts(credentials: Credentials = TEST_CREDENTIALS): STSClient {
    return this.#track(new STSClient({ endpoint: this.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
  }

  kms(credentials: Credentials = TEST_CREDENTIALS): KMSClient {
    return this.#track(new KMSClient({ endpoint: this.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
  }

  destroy(): void {
    for (const c of this.#made.splice(0)) c.destroy();
  }

  #track<T extends { destroy(): void }>(client: T): T {
    this.#made.push(client);
    return client;
  }
}

/** A policy document: {"Version":"2012-10-17","Statement":[…]}. */
export function policyDocument(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

export function allow(action: string | string[], resource: string | string[] = '*'): Record<string, unknown> {
  return { Effect: 'Allow', Action: action, Resource: resource };
}

export function deny(action: string | string[], resource: string | string[] = '*'): Record<string, unknown> {
  return { Effect: 'Deny', Action: action, Resource: resource };
}

/** A trust policy letting `principal` (an ARN or account id) call sts:AssumeRole. */
export function trustPolicy(principal: string | string[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }] });
}
