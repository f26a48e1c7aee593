// POST /tokenize and /detokenize against llama-server's, byte for byte, on a SentencePiece vocab
// with BOS (stories260K) and a byte-level BPE vocab whose pieces split characters (Qwen2).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generatedModel } from "../helpers/models.ts";
import { defaultModel } from "../helpers/paths.ts";
import { postJson, startHearth, startLlamaServer, type Running } from "../helpers/server.ts";

let hearth: Running;
const references = new Map<string, Running>();
let qwen: string;
const idOf = (path: string) => path.split("/").pop()!.replace(/\.gguf$/, "");

beforeAll(async () => {
  qwen = await generatedModel("tiny-qwen2");
  const [h, a, b] = await Promise.all([
    startHearth(["--model", defaultModel, "--model", qwen, "--threads", "1", "--parallel", "1"]),
    startLlamaServer(["-m", defaultModel, "-c", "256", "-t", "1", "-np", "1"]),
    startLlamaServer(["-m", qwen, "-c", "256", "-t", "1", "-np", "1"]),
  ]);
  hearth = h;
  references.set("stories260K", a);
  references.set("qwen", b);
});
afterAll(async () => {
  await Promise.all([hearth?.stop(), ...[...references.values()].map(r => r.stop())]);
});

const texts = [
  "Hello world",
  " leading space and  double  spaces\nnew line",
  "<|im_start|>user\nHi<|im_end|>",
  "<s> looks like BOS </s>",
  "emoji 🦙🔥 and 中文字符 and café, 𝄞 龘 🫠",
  "",
];

async function both(model: "stories260K" | "qwen", path: string, body: Record<string, unknown>) {
  const ref = references.get(model)!;
  const id = model === "qwen" ? idOf(qwen) : "stories260K";
  const [ours, theirs] = await Promise.all([
    postJson(`${hearth.url}${path}`, { ...body, model: id }),
    postJson(`${ref.url}${path}`, body),
  ]);
  expect(ours.status).toBe(200);
  return [await ours.json(), await theirs.json()] as [any, any];
}

for (const model of ["stories260K", "qwen"] as const) {
  describe(model, () => {
    test.each(texts)("tokenize %j: every add_special × parse_special × with_pieces combination", async content => {
      for (const add_special of [undefined, true, false]) {
        for (const parse_special of [undefined, true, false]) {
          for (const with_pieces of [undefined, true]) {
            const body = { content, add_special, parse_special, with_pieces };
            const [ours, theirs] = await both(model, "/tokenize", body);
            expect({ body, ours }).toEqual({ body, ours: theirs });
          }
        }
      }
    });

    test("content mixing text and token ids (only the first text gets BOS)", async () => {
      for (const content of [["Hello", 42, " world"], [42, "Hello"], ["a", "b"]]) {
        const [ours, theirs] = await both(model, "/tokenize", { content, add_special: true, with_pieces: true });
        expect(ours).toEqual(theirs);
      }
    });

    test("detokenize renders the pieces as llama-server does (control tokens as their text)", async () => {
      for (const content of texts) {
        const [tok] = await both(model, "/tokenize", { content, add_special: true, parse_special: true });
        const [ours, theirs] = await both(model, "/detokenize", { tokens: tok.tokens });
        expect(ours).toEqual(theirs);
      }
    });
  });
}

test("pieces that are not valid UTF-8 come as byte arrays", async () => {
  const res: any = await (await postJson(`${hearth.url}/tokenize`, { model: idOf(qwen), content: "𝄞 and 🫠", with_pieces: true })).json();
  expect(res.tokens.some((t: any) => Array.isArray(t.piece))).toBe(true);
  const bytes = res.tokens.flatMap((t: any) => (Array.isArray(t.piece) ? t.piece : [...Buffer.from(t.piece)]));
  expect(Buffer.from(bytes).toString()).toBe("𝄞 and 🫠");
});

test("token ids outside the vocabulary → 400", async () => {
  for (const [path, body, param] of [["/tokenize", { content: ["a", 10_000_000] }, "content"], ["/detokenize", { tokens: [10_000_000] }, "tokens"]] as const) {
    const res = await postJson(`${hearth.url}${path}`, { ...body, model: "stories260K" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.param).toBe(param);
  }
});
