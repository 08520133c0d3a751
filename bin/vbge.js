#!/usr/bin/env node
// The compiled CLI (npm install runs `prepare`, which builds dist/).
import('../dist/src/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`vbge: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
