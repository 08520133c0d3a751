/**
 * A Unigram vocabulary packed into three flat values: every piece's UTF-16 text in one string,
 * where each piece ends in it, and the scores by id. bge-m3 has 250k pieces: as 250k strings
 * and a Map they cost a third of a second of every load; packed, reading them from the tokenizer
 * cache costs almost nothing and the segmenter looks them up in typed arrays.
 */
export interface UnigramPieces {
  /** All pieces, by id, one after another. */
  readonly text: string;
  /** ends[id]: where piece `id` ends in `text` (it starts where piece id − 1 ends). */
  readonly ends: Uint32Array;
  /** Scores by id, as tokenizer.json gives them (float64). */
  readonly scores: Float64Array;
}

export function packPieces(pieces: ReadonlyArray<readonly [string, number]>): UnigramPieces {
  const ends = new Uint32Array(pieces.length);
  const scores = new Float64Array(pieces.length);
  let end = 0;
  pieces.forEach(([piece, score], id) => {
    end += piece.length;
    ends[id] = end;
    scores[id] = score;
  });
  return { text: pieces.map((p) => p[0]).join(''), ends, scores };
}

export function pieceStart(p: UnigramPieces, id: number): number {
  return id === 0 ? 0 : p.ends[id - 1]!;
}

/** Piece `id` as [text, score] (for errors and tests; the segmenter never makes the string). */
export function pieceAt(p: UnigramPieces, id: number): readonly [string, number] {
  return [p.text.slice(pieceStart(p, id), p.ends[id]), p.scores[id]!];
}
