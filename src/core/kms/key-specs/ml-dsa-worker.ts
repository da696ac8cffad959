import { parentPort } from 'node:worker_threads';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import type { DsaJob, DsaResult } from './ml-dsa-pool.js';

/**
 * The worker side of ml-dsa-pool.ts: ML-DSA signing and verification (@noble/post-quantum, pure JavaScript,
 * milliseconds each) off the server's event loop. It holds nothing between jobs: each brings the key it needs,
 * and a signing key is overwritten once used.
 */
const DSA = { 44: ml_dsa44, 65: ml_dsa65, 87: ml_dsa87 } as const;

parentPort!.on('message', (job: DsaJob) => {
  let answer: DsaResult;
  try {
    const dsa = DSA[job.level];
    const opts = job.externalMu ? { externalMu: true } : undefined;
    if (job.op === 'sign') {
      const signature = job.externalMu ? dsa.internal.sign(job.message, job.key, { externalMu: true }) : dsa.sign(job.message, job.key);
      answer = { id: job.id, signature };
    } else {
      let valid = false;
      try {
        valid = opts ? dsa.internal.verify(job.signature!, job.message, job.key, opts) : dsa.verify(job.signature!, job.message, job.key);
      } catch {
        // A signature of the wrong length or encoding is simply not valid.
      }
      answer = { id: job.id, valid };
    }
  } catch {
    // noble's messages name lengths and types only, but nothing of a failed job leaves the worker.
    answer = { id: job.id, failed: true };
  } finally {
    if (job.op === 'sign') job.key.fill(0);
  }
  parentPort!.postMessage(answer);
});
