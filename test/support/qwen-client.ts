import { QwenClient } from '../../src/qwen/client.ts';
import { TEST_API_KEY } from './harness.ts';

export type QwenClientOptions = ConstructorParameters<typeof QwenClient>[0];

/** A QwenClient on the simulator at `baseUrl` with the tests' settings (short timeouts, two retries); `over` changes any. */
export function simQwenClient(baseUrl: string, over: Partial<QwenClientOptions> = {}): QwenClient {
  return new QwenClient({
    apiKey: TEST_API_KEY,
    baseUrl,
    firstTokenTimeoutMs: 2000,
    totalTimeoutMs: 5000,
    retries: 2,
    retryBaseDelayMs: 1000,
    embeddingModel: 'text-embedding-v4',
    embeddingDimensions: 1024,
    embeddingConcurrency: 3,
    ...over,
  });
}
