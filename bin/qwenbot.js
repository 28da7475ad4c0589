#!/usr/bin/env node
// Runs the TypeScript entry point directly (Node >= 22.18 strips types natively).
import { main } from '../src/main.ts';

process.exitCode = await main(process.argv.slice(2));
