// SentencePiece tokenizer.model (a ModelProto protobuf) → GGUF "llama" vocabulary. Only the
// fields llama.cpp needs are read: pieces (1) with piece (1), score (2), type (3), and the
// normalizer's add_dummy_prefix (3.3). SentencePiece piece types use llama.cpp's numbers.
import { ImportError } from "../errors.ts";
import { type GgufVocab, TokenType } from "./vocab.ts";

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new ImportError("tokenizer.model: truncated protobuf");
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
      if (mul > 2 ** 63) throw new ImportError("tokenizer.model: bad varint");
    }
  }
  /** Yields (field, wireType, sub-reader or value) for each field of the message. */
  *fields(): Generator<[number, number, Reader | number]> {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 2) {
        const len = this.varint();
        if (this.pos + len > this.end) throw new ImportError("tokenizer.model: truncated protobuf");
        const sub = new Reader(this.buf, this.pos + len);
        sub.pos = this.pos;
        this.pos += len;
        yield [field, wire, sub];
      } else if (wire === 5) {
        if (this.pos + 4 > this.end) throw new ImportError("tokenizer.model: truncated protobuf");
        yield [field, wire, new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true)];
        this.pos += 4;
      } else if (wire === 1) this.pos += 8;
      else throw new ImportError(`tokenizer.model: unsupported protobuf wire type ${wire}`);
    }
  }
  text(): string {
    return new TextDecoder().decode(this.buf.subarray(this.pos, this.end));
  }
}

export function vocabFromSentencePiece(buf: Uint8Array): GgufVocab {
  const tokens: string[] = [];
  const types: number[] = [];
  const scores: number[] = [];
  let addSpacePrefix = true;
  for (const [field, wire, v] of new Reader(buf).fields()) {
    if (field === 1 && wire === 2) {
      let piece = "";
      let score = 0;
      let type: number = TokenType.NORMAL;
      for (const [f, w, x] of (v as Reader).fields()) {
        if (f === 1 && w === 2) piece = (x as Reader).text();
        else if (f === 2 && w === 5) score = x as number;
        else if (f === 3 && w === 0) type = x as number;
      }
      tokens.push(piece);
      scores.push(score);
      types.push(type >= 1 && type <= 6 ? type : TokenType.NORMAL);
    } else if (field === 3 && wire === 2) {
      for (const [f, w, x] of (v as Reader).fields()) if (f === 3 && w === 0) addSpacePrefix = x !== 0;
    }
  }
  if (tokens.length === 0) throw new ImportError("tokenizer.model: no pieces (not a SentencePiece model)");
  const unk = types.indexOf(TokenType.UNKNOWN);
  return { model: "llama", tokens, types, scores: Float32Array.from(scores), addSpacePrefix, special: { unk: unk >= 0 ? unk : undefined } };
}
