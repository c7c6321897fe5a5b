import { UsageError } from './args.js';

export async function cmdTemplate(_argv: string[]): Promise<number> {
  throw new UsageError('template: not available in this build yet');
}
