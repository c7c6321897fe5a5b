import { UsageError } from './args.js';

export async function cmdLocalRuntime(_argv: string[]): Promise<number> {
  throw new UsageError('local-runtime: not available in this build yet');
}
