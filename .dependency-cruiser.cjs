/**
 * The folder table of design.md (docs/design.md, "Folders"), checked on every CI run: each rule
 * is one "must not know about" cell, or one arrow of "dependencies point downward". A layering
 * slip fails `npm run check:layers` (run by .ci/run) instead of waiting for review.
 *
 * Layers, top to bottom:
 *   cli/, server/                      commands, HTTP — nothing imports them (cli starts the server)
 *   eval/ → index/ → store/            the retrieval product
 *   encoder.ts (+ verify, canaries)    the public API and the windowed pipeline
 *   load/                              the load strategy (memory / cache / exported), export, provenance
 *   runtime/                           sessions, scheduler, the graph cache's storage and promotion
 *   model/, text/, image/, hub/        graphs from configs, tokenisers, pixels, downloads
 *   onnx/, checkpoint/, util/          graph builder, weights files, small helpers
 * errors.ts and limits.ts are shared by every layer.
 */
/** An npm package as dependency-cruiser sees it: its resolved path under node_modules. */
const npm = (names) => `(^|/)node_modules/(${names})/`;
const HTTP = `^(node:)?(http|https|http2|net|dns)$|${npm('fastify|undici')}`;
const SQL = npm('pg|pgvector|@electric-sql/[^/]+');
const ORT = npm('onnxruntime-node|onnx-proto');
const SHARP = npm('sharp');
const PRODUCT = '^src/(load|index|store|eval|server|cli)/|^src/(encoder|verify|canaries|index)\\.ts$';

/** A rule that modules under `from` must not import anything matching `to`. */
const mustNot = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });
const mustNotUse = (name, comment, from, dependency) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'core'], path: dependency },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'No import cycles (type-only imports included).', severity: 'error', from: {}, to: { circular: true } },
    mustNot('nothing-imports-cli', 'Nothing imports cli/.', '^src/(?!cli/)', '^src/cli/'),
    mustNot('only-cli-starts-the-server', 'Nothing but cli/ imports server/.', '^src/(?!(cli|server)/)', '^src/server/'),
    mustNot('foundation-below-the-product', 'checkpoint/, onnx/, model/, text/, image/, runtime/, hub/ and util/ do not know the layers above them.', '^src/(checkpoint|onnx|model|text|image|runtime|hub|util)/', PRODUCT),

    mustNot('checkpoint-knows-no-onnx-or-images', 'checkpoint/ must not know ONNX, images (design.md).', '^src/checkpoint/', '^src/(onnx|runtime|image|model|text|load)/'),
    mustNotUse('checkpoint-uses-no-ort-or-sharp', 'checkpoint/ must not know ONNX, images.', '^src/checkpoint/', `${ORT}|${SHARP}`),
    mustNot('onnx-knows-no-checkpoints-or-models', 'onnx/ must not know checkpoints, model names.', '^src/onnx/', '^src/(checkpoint|model|runtime|text|image|hub)/'),
    mustNot('model-is-pure', 'model/ must not know files, HTTP: config objects in, graphs out.', '^src/model/', '^src/(hub|runtime|text|image)/'),
    mustNotUse('model-reads-no-files', 'model/ must not know files, HTTP.', '^src/model/', `^(node:)?(fs|fs/promises)$|${HTTP}`),
    mustNot('text-knows-no-onnx', 'text/ must not know ONNX.', '^src/text/', '^src/(onnx|runtime|model|image|hub)/'),
    mustNotUse('text-uses-no-ort', 'text/ must not know ONNX.', '^src/text/', ORT),
    mustNot('image-knows-no-onnx', 'image/ must not know ONNX.', '^src/image/', '^src/(onnx|runtime|model|text|hub|checkpoint)/'),
    mustNotUse('image-uses-no-ort', 'image/ must not know ONNX.', '^src/image/', ORT),
    mustNot(
      'runtime-runs-graphs-only',
      'runtime/ keeps sessions, the scheduler and the graph cache’s storage/promotion; building graphs from checkpoints, text and images is the load layer’s (and it must not know HTTP, stores).',
      '^src/runtime/',
      '^src/(checkpoint|text|image|onnx|hub)/',
    ),
    mustNotUse('runtime-uses-no-http-or-sql', 'runtime/ must not know HTTP, stores.', '^src/runtime/', `${HTTP}|${SQL}|${npm('@lancedb/[^/]+')}`),
    mustNot('hub-knows-no-onnx', 'hub/ must not know ONNX.', '^src/hub/', '^src/(onnx|runtime|model|text|image)/'),
    mustNotUse('hub-uses-no-ort', 'hub/ must not know ONNX.', '^src/hub/', ORT),

    mustNot('load-is-below-the-encoder', 'load/ chooses where graphs come from; the Encoder and the product sit above it.', '^src/load/', '^src/(index|store|eval|server|cli)/|^src/(encoder|verify|canaries|index)\\.ts$'),
    mustNot(
      'encoder-is-the-api-and-the-pipeline',
      'encoder.ts runs the windowed pipeline; loading (published models from the hub, checkpoints, graph building, the graph cache) is load/’s.',
      '^src/encoder\\.ts$',
      '^src/(checkpoint|onnx|hub|index|store|eval|server|cli)/|^src/runtime/graph-cache\\.ts$',
    ),
    mustNot('index-knows-no-onnx-sql-http', 'index/ must not know ONNX, SQL, HTTP (it uses encoder.ts and store/).', '^src/index/', '^src/(onnx|runtime|model|load|checkpoint|eval|hub)/'),
    mustNotUse('index-uses-no-ort-sql-http', 'index/ must not know ONNX, SQL, HTTP.', '^src/index/', `${ORT}|${SQL}|${HTTP}`),
    mustNot('store-knows-no-onnx-or-images', 'store/ must not know ONNX, images (nor the index or the encoder above it).', '^src/store/', '^src/(onnx|runtime|model|load|image|text|checkpoint|index|eval|hub)/|^src/encoder\\.ts$'),
    mustNotUse('store-uses-no-ort-or-sharp', 'store/ must not know ONNX, images.', '^src/store/', `${ORT}|${SHARP}`),
    mustNot('eval-knows-no-onnx-or-sql', 'eval/ must not know ONNX, SQL.', '^src/eval/', '^src/(onnx|runtime|model|load|checkpoint)/'),
    mustNotUse('eval-uses-no-ort-or-sql', 'eval/ must not know ONNX, SQL.', '^src/eval/', `${ORT}|${SQL}`),
    mustNot('server-knows-no-onnx-internals-or-sql', 'server/ must not know ONNX internals, SQL.', '^src/server/', '^src/(onnx|runtime|model|load|checkpoint)/'),
    mustNotUse('server-uses-no-ort-or-sql', 'server/ must not know ONNX internals, SQL.', '^src/server/', `${ORT}|${SQL}`),
    mustNot('cli-knows-no-onnx-internals', 'cli/ must not know ONNX internals.', '^src/cli/', '^src/(onnx|model)/'),
    mustNotUse('cli-uses-no-ort', 'cli/ must not know ONNX internals.', '^src/cli/', ORT),
    mustNot('util-is-a-leaf', 'util/ holds small helpers that import nothing of ours.', '^src/util/', '^src/(?!util/)'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
