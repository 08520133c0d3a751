/** The `vbge` command line. */
import { Command, CommanderError } from 'commander';
import { VbgeError } from '../errors.js';
import { registerEmbed } from './embed.js';
import { registerExport } from './export.js';
import { registerPull } from './pull.js';
import { registerVerify } from './verify.js';

export function buildProgram(): Command {
  const program = new Command('vbge')
    .description('Visualized BGE multimodal embeddings: faithful, deterministic, fast')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError(false);
  registerEmbed(program);
  registerPull(program);
  registerVerify(program);
  registerExport(program);
  return program;
}

/** Runs the CLI; every failure becomes one clear line on stderr and a non-zero exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const message = err instanceof VbgeError ? err.message : `unexpected error: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`vbge: ${message}\n`);
    process.exitCode = 2;
  }
}
