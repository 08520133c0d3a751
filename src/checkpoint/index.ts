/** Reading weights files. */
export { BYTES_PER_ELEMENT, numel, type F32Tensor, type StoredDType, type StoredTensor } from './tensor.js';
export { float32ToFloat16Bits, toFloat16Bytes, toFloat32 } from './convert.js';
export { WeightMap } from './weight-map.js';
export {
  PickleDict,
  PickleGlobal,
  PickleObject,
  PickleTuple,
  unpickle,
  type PickleKey,
  type PickleValue,
  type UnpickleHooks,
} from './pickle.js';
export { ZipDirectory, type ZipEntry } from './zip.js';
export { openTorchZip, readTorchZip, TorchZipTensor, type TorchZipContents } from './torch-zip.js';
export {
  looksLikeSafetensors,
  MAX_SAFETENSORS_HEADER_BYTES,
  openSafetensors,
  readSafetensors,
  SafetensorsTensor,
  type SafetensorsContents,
} from './safetensors.js';
export {
  mapHfTextWeights,
  parseTextModelConfig,
  readHfTextFolder,
  readTextModelConfig,
  visualizedKeyForHfKey,
  type HfTextFolder,
  type HfTokenizerFiles,
  type TextModelConfig,
} from './hf-folder.js';
export {
  assertVisualizedCheckpoint,
  detectCheckpointFormat,
  loadVisualizedWeights,
  openCheckpoint,
  sha256File,
  type CheckpointFormat,
  type LoadVisualizedOptions,
} from './load.js';
