/** The BGE text tower: Hugging Face BertModel (bge-base-en-v1.5) or XLMRobertaModel (bge-m3). */
export interface BertConfig {
  readonly modelType: 'bert' | 'xlm-roberta';
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly layerNormEps: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly vocabSize: number;
  readonly padTokenId: number;
}

export function headDim(cfg: BertConfig): number {
  return cfg.hiddenSize / cfg.numHeads;
}
