/** `vbge export --onnx DIR`: graphs, tokenizer and manifest for other ONNX runtimes. */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { addModelOptions, type ModelCliOptions, resolveModelFiles } from './model-options.js';

export function registerExport(program: Command): void {
  addModelOptions(program.command('export').description('write the model as ONNX graphs + tokenizer + manifest.json'))
    .option('--onnx <dir>', 'the folder to write (must not hold an exported model already)')
    .action(async (opts: ModelCliOptions & { onnx?: string }) => {
      if (!opts.onnx) throw new ConfigError('export needs --onnx DIR');
      const files = await resolveModelFiles(opts);
      const { exportOnnx } = await import('../load/export.js');
      const manifest = await exportOnnx(files, opts.onnx);
      process.stdout.write(`${opts.onnx}: vision.onnx, text.onnx, tokenizer/, manifest.json (dim ${manifest.provenance.dim}, checkpoint sha256 ${manifest.provenance.checkpointSha256})\n`);
    });
}
