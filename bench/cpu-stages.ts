/**
 * `node dist/bench/cpu-stages.js <profile.cpuprofile> [requests]`: where a Strongroom server's CPU went, by
 * stage of the request path, from a V8 CPU profile (`BENCH_CPU_PROF=<dir> npm run bench:kms`, or any
 * `node --cpu-prof` run of `strongroom serve`).
 *
 * Each sample's time goes to the stage of the innermost frame on its stack that a rule below names (node's
 * crypto internals under the SigV4 verifier count as SigV4, under the audit log as audit); samples in no
 * named frame are "event loop, other". Idle time and module loading are left out. With `requests` (how many
 * the server answered while profiled), each stage is also shown in µs per request — wall-clock samples of
 * the main thread, so on a loaded machine they overstate CPU; scale the shares by a CPU-time measurement
 * (e.g. /proc/<pid>/stat) for figures.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const EXCLUDED = ['idle', 'startup (module loading)'];

/** Stage rules, checked in order on each frame from the innermost out; `fn` narrows a rule to some functions. */
const RULES: readonly { readonly stage: string; readonly url: RegExp; readonly fn?: RegExp }[] = [
  { stage: 'startup (module loading)', url: /node:internal\/modules|cjs\/loader|esm\// },
  { stage: 'logging (pino)', url: /node_modules\/pino/ },
  { stage: 'audit: record building', url: /core\/audit\/(record|event-id|cross-account)\.js/, fn: /^(trailTime|userIdentityOf|newEventId|recipientCopies)$/ },
  { stage: 'audit: record building', url: /services\/audit\.js/ },
  {
    stage: 'audit: canonical JSON, hash chain, Merkle, tree-head signature',
    url: /core\/audit\/(record|merkle|tree-head-key|tree-head|audit-log)\.js/,
    fn: /^(canonicalJson|jsonString|chainHash|leafHash|nodeHash|append|root|clone|sign|buildCommit|toBytes|fromBytes)$/,
  },
  { stage: 'cache invalidation sync (PRAGMA data_version per request)', url: /sqlite\/invalidation-port\.js/ },
  { stage: 'audit: SQLite insert + commit (WAL write)', url: /sqlite\/audit-store\.js|sqlite\/database\.js/, fn: /^(?!durable$|#syncWal$|#startQueued$)/ },
  { stage: 'audit: fsync scheduling (the fsync runs on the thread pool)', url: /sqlite\/database\.js|node:internal\/fs/ },
  { stage: 'audit: group-commit queue', url: /core\/audit\/audit-log\.js/ },
  { stage: 'SigV4 verification', url: /core\/identity\/sigv4\/|identity\/authenticator\.js/ },
  { stage: 'credential lookup', url: /core\/identity\/(credentials|accounts|sessions)\.js/ },
  {
    stage: 'authorization (condition keys, policies, grants)',
    url: /services\/kms\/conditions\.js|services\/request-conditions\.js|core\/policy\/|core\/kms\/(access-control|grants|grant-[a-z-]+)\.js|core\/iam\//,
  },
  { stage: 'authorization (condition keys, policies, grants)', url: /services\/kms\/service\.js/, fn: /^authorize$/ },
  { stage: 'key lookup (ciphertext header, key record)', url: /core\/kms\/(resolver|aliases|keys|arn)\.js|store\/metadata\/(cached-store|sqlite\/sqlite-store)|services\/kms\/(foreign-keys|operations\/[A-Za-z]+)\.js/ },
  { stage: 'key lookup (ciphertext header, key record)', url: /core\/kms\/cryptography\.js|core\/crypto\/ciphertext\.js/, fn: /^(locate|parseBlob)$/ },
  { stage: 'KMS crypto (AES-GCM, key material, random)', url: /core\/crypto\/|core\/kms\/(cryptography|material-cache|materials)\.js/ },
  { stage: 'input decoding/validation (model)', url: /services\/shapes\.js|services\/kms\/index\.js/, fn: /^(decodeInput|checkInput|#check|#decode|#decodeShape|\w*Type)$/ },
  { stage: 'output encoding (model)', url: /services\/shapes\.js/ },
  { stage: 'dispatch', url: /services\/service\.js|services\/kms\/call\.js/ },
  { stage: 'AWS JSON protocol (routing, JSON.parse/stringify, answer)', url: /protocols\// },
  { stage: 'HTTP (node:http parse and write, body read, edge)', url: /node:_http|node:net|node:internal\/streams?|node:events|src\/http\/|node:internal\/timers|node:timers/ },
];

function stageOf(leaf: ProfileNode, byId: ReadonlyMap<number, ProfileNode>, parent: ReadonlyMap<number, number>): string {
  switch (leaf.callFrame.functionName) {
    case '(idle)':
      return 'idle';
    case '(garbage collector)':
      return 'GC';
    case '(program)':
      return 'V8/native, unattributed';
  }
  for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
    const { url, functionName } = n.callFrame;
    for (const r of RULES) if (r.url.test(url) && (!r.fn || r.fn.test(functionName))) return r.stage;
  }
  return 'event loop, other';
}

function main(): void {
  const [file, requestsArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-stages.js <profile.cpuprofile> [requests]');
  const requests = requestsArg === undefined ? undefined : Number(requestsArg);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const stages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const stage = stageOf(byId.get(id)!, byId, parent);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
  }
  const busy = [...stages].filter(([s]) => !EXCLUDED.includes(s)).reduce((a, [, us]) => a + us, 0);
  const perRequest = (us: number) => (requests ? `${(us / requests).toFixed(1).padStart(7)} µs/req  ` : '');
  process.stdout.write(`busy ${(busy / 1000).toFixed(0)} ms${requests ? ` for ${requests} requests: ${(busy / requests).toFixed(0)} µs/request` : ''}\n`);
  for (const [stage, us] of [...stages].sort((a, b) => b[1] - a[1])) {
    const share = EXCLUDED.includes(stage) ? '  (left out)' : `${((100 * us) / busy).toFixed(1).padStart(5)} %     `;
    process.stdout.write(`${perRequest(us)}${share}  ${stage}\n`);
  }
}

main();
