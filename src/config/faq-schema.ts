import { z } from 'zod';

/** FAQ by meaning. Threshold defaults come from the measured set in test/faq/thresholds.test.ts. */
const faqDefaults = {
  enabled: true,
  path: 'config/faq.yaml',
  watch: true,
  confidentThreshold: 0.6,
  suggestThreshold: 0.45,
  suggestCount: 3,
  ephemeralInChannels: true,
  generateFallback: false,
  tool: true,
};
export const faqSchema = z
  .strictObject({
    enabled: z.boolean().default(faqDefaults.enabled),
    path: z.string().min(1).default(faqDefaults.path),
    watch: z.boolean().default(faqDefaults.watch),
    confidentThreshold: z.number().min(-1).max(1).default(faqDefaults.confidentThreshold),
    suggestThreshold: z.number().min(-1).max(1).default(faqDefaults.suggestThreshold),
    suggestCount: z.number().int().min(1).max(10).default(faqDefaults.suggestCount),
    ephemeralInChannels: z.boolean().default(faqDefaults.ephemeralInChannels),
    generateFallback: z.boolean().default(faqDefaults.generateFallback),
    tool: z.boolean().default(faqDefaults.tool),
  })
  .refine((f) => f.suggestThreshold <= f.confidentThreshold, {
    path: ['suggestThreshold'],
    message: 'must not be above faq.confidentThreshold',
  })
  .default(faqDefaults);
