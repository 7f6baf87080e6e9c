#!/usr/bin/env node
// The installed `heapsim` command: the bundled CLI compiled with its code cache (code-cache.cts).
// HEAPSIM_CODE_CACHE=report writes whether the cache was used to stderr (tests).
import { compileBundle, raiseMallocThresholds } from './code-cache.cjs';

raiseMallocThresholds();
const bundle = compileBundle(__dirname);
if (process.env.HEAPSIM_CODE_CACHE === 'report') process.stderr.write(`code cache: ${bundle.cacheUsed ? 'used' : 'not used'}\n`);
bundle.run();
