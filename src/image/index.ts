/** Image input: Pillow-exact decoding and preprocessing for the vision tower. */
export { preprocessImage, PREPROCESS_VERSION, type PreprocessOptions, type PreprocessedImage } from './preprocess.js';
export { ImagePreprocessPool } from './pool.js';
export type { ImageFormat, PillowMode } from './sniff.js';
