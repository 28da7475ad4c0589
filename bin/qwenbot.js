#!/usr/bin/env node
// Runs the compiled entry point (dist/, `npm run build`) when it is up to date with the sources, else
// the TypeScript one directly (Node >= 22.18 strips types natively). The version check comes first, and
// main is imported only after it: a static import of a .ts file would fail on an old Node before any
// line here ran.
import './check-node.mjs';
import { distIsFresh } from './build.mjs';

const { main } = distIsFresh() ? await import('../dist/src/main.js') : await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
