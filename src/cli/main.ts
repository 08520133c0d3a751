/** The `vbge` command line. */
import { Command, CommanderError } from 'commander';
import { VbgeError } from '../errors.js';
import { registerEmbed } from './embed.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerIndex } from './index-command.js';
import { registerPull } from './pull.js';
import { registerSearch } from './search.js';
import { registerServe } from './serve.js';
import { registerVerify } from './verify.js';

export function buildProgram(): Command {
  const program = new Command('vbge')
    .description('Visualized BGE multimodal embeddings: faithful, deterministic, fast')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError(false);
  registerEmbed(program);
  registerIndex(program);
  registerSearch(program);
  registerPull(program);
  registerVerify(program);
  registerExport(program);
  registerServe(program);
  registerEval(program);
  return program;
}

/** Exit codes: 0 all done, 1 some inputs failed or were rejected (`embed`, `index`, `verify`), 2 the command could not run. */
const EXIT_USAGE = 2;

/** Help and version output end commander's parse with an "error" that is not one. */
const INFORMATIONAL = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version']);

/** Runs the CLI; every failure becomes one clear line on stderr and a non-zero exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  // Library warnings (an unusable graph cache, ...) become one plain line each.
  process.removeAllListeners('warning');
  process.on('warning', (w) => process.stderr.write(`vbge: warning: ${w.message}\n`));
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its own message already (unknown option, missing argument, ...).
      process.exitCode = INFORMATIONAL.has(err.code) && err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.stderr.write(`vbge: ${describeError(err)}\n`);
    process.exitCode = EXIT_USAGE;
  }
}

/** One line for the user; the stack (of an error we did not expect) only with VBGE_DEBUG=1. */
export function describeError(err: unknown): string {
  if (err instanceof VbgeError) return err.message;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (process.env['VBGE_DEBUG'] === '1' && err instanceof Error && err.stack) return `unexpected error: ${err.stack}`;
  return `unexpected error: ${message.replace(/\s*\n\s*/g, ' ')} (VBGE_DEBUG=1 shows where)`;
}
