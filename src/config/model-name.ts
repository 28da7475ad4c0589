import { z } from 'zod';

/** A DashScope model name as config takes it. */
export const modelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'a lowercase model name such as qwen-plus');
