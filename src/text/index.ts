export { TextTokenizer, type TokenizeOptions, type TokenizerKind } from './tokenizer.js';
