#!/usr/bin/env node
// Runs the TypeScript entry point directly (Node >= 22.18 strips types natively). The version check
// comes first, and main is imported only after it: a static import of a .ts file would fail on an
// old Node before any line here ran.
import './check-node.mjs';

const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
