#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Node 20 takes directories, Node 22+ takes globs; listing the files works on both.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const filter = process.argv.slice(2);
const files = find('dist/test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();
// The AWS SDK's notice that its 2027 releases need Node 22 is printed once per test process (hundreds of
// lines of CI log); the tests of what our own commands print (first-run) give their children a clean env.
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
// Two test files at a time (node's default is one fewer than the cores: one here). Most of a file's time is spent
// waiting — for child servers, the aws CLI's start, fsyncs, a PostgreSQL cluster's start, leases running out —
// so two files keep both cores busy; each file still runs its own tests in order, with its own servers, temp
// dirs and free ports. TEST_CONCURRENCY=1 runs them one by one.
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const res = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit', env });
process.exit(res.status ?? 1);
