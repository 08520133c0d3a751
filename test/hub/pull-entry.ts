// A minimal `vbge` with only the pull command, so tests can run it as a real process.
import { Command } from 'commander';
import { registerPull } from '../../src/cli/pull.js';

const program = new Command('vbge');
registerPull(program);
await program.parseAsync(process.argv);
