#!/usr/bin/env node
// Built by `npm install` (the prepare script runs tsc). Run `npm run build` after changing the sources.
import '../dist/src/cli/index.js';
