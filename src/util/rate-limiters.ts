/**
 * The three rate limiters the bot uses, loaded from their own files: the package's index loads every
 * one of its 25 back ends (Mongo, MySQL, Prisma, Etcd…), about 1 MB of an idle bot's heap.
 */
import { createRequire } from 'node:module';
import type * as Flexible from 'rate-limiter-flexible';

const require = createRequire(import.meta.url);

export type { RateLimiterAbstract } from 'rate-limiter-flexible';
export const RateLimiterMemory: typeof Flexible.RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory.js');
export const RateLimiterRedis: typeof Flexible.RateLimiterRedis = require('rate-limiter-flexible/lib/RateLimiterRedis.js');
export const RateLimiterRes: typeof Flexible.RateLimiterRes = require('rate-limiter-flexible/lib/RateLimiterRes.js');
export type RateLimiterRes = Flexible.RateLimiterRes;
