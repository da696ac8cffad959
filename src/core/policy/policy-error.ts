/**
 * A policy document that cannot be a policy: bad JSON, an unknown element, a value of the wrong shape.
 * `path` names the element ("Statement[1].Effect", or "" for the document itself); the message reads
 * "<path> <problem>". The caller decides which AWS error it becomes (KMS answers
 * MalformedPolicyDocumentException, IAM MalformedPolicyDocument).
 */
export class PolicyError extends Error {
  readonly path: string;
  readonly problem: string;

  constructor(path: string, problem: string) {
    super(path === '' ? problem : `${path} ${problem}`);
    this.name = 'PolicyError';
    this.path = path;
    this.problem = problem;
  }
}

/** Quotes a value from the document for a message, bounded so a huge value never floods a log line. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
}
