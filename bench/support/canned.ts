/** One canned answer, as bench/kms.ts captured it from Strongroom and bench/bare-server.ts replays it. */
export interface CannedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** base64 of the body bytes */
  readonly body: string;
}

/** Canned answers by X-Amz-Target. */
export type CannedResponses = Record<string, CannedResponse>;
