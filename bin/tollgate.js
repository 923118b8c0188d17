#!/usr/bin/env node
// The package bin: a thin shim over the compiled CLI so that `npx tollgate` works after `npm ci`.
import '../dist/src/cli/main.js';
