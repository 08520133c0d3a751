/** `vbge verify`: determinism checks and the fingerprint of model + runtime + CPU. */
import type { Command } from 'commander';
import { addModelOptions, type ModelCliOptions, resolveModelFiles } from './model-options.js';
import { parseThreads } from './parse.js';

interface VerifyOptions extends ModelCliOptions {
  threads?: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  addModelOptions(program.command('verify').description('check on this machine that embeddings are bitwise reproducible, and print the fingerprint'))
    .option('--threads <n>', 'threads of the primary run, at least 2 (the check compares with 1 thread)')
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: VerifyOptions) => {
      const threads = opts.threads === undefined ? undefined : parseThreads(opts.threads);
      const files = await resolveModelFiles(opts);
      const [{ Encoder }, { defaultThreads }, { verifyEncoder }] = await Promise.all([import('../encoder.js'), import('../runtime/session.js'), import('../verify.js')]);
      const report = await verifyEncoder((n) => Encoder.load({ ...files, threads: n, imageWorkers: 0 }), threads ?? defaultThreads());
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        for (const c of report.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}\n`);
        process.stdout.write('fingerprint:\n');
        for (const [k, v] of Object.entries(report.fingerprint)) process.stdout.write(`  ${k}: ${v}\n`);
      }
      process.exitCode = report.ok ? 0 : 1;
    });
}
