// The prompt measured before it is sent: for dialects whose clients treat max_tokens as a ceiling
// (Claude Code asks for 32,000 whatever the context) and read the context limit from a refusal's
// words ("prompt is too long: N tokens > M maximum" makes Claude Code compact its conversation).
import { EngineError, type PromptSegment } from "../../engine/types.ts";
import { badRequest, fromEngineError } from "../errors.ts";
import type { AcquiredModel } from "../model-source.ts";
import type { PreparedChat } from "./prepare.ts";

/** The token ids the engine decodes for this prompt: its exact prompt token count. */
export function promptIds(prepared: Pick<PreparedChat, "generate">, model: Pick<AcquiredModel, "engine">): Promise<number[]> {
  const prompt = prepared.generate.prompt;
  if (prompt.length > 0 && typeof prompt[0] === "number") return Promise.resolve(prompt as number[]);
  const images = prepared.generate.images;
  if (!images?.length) return model.engine.tokenizePrompt(prompt as PromptSegment[], prepared.generate.addSpecial);
  // The runner decodes the images to count their tokens: a bad one is the client's 400, naming the part.
  return model.engine.tokenizePrompt(prompt as PromptSegment[], prepared.generate.addSpecial, images).catch(err => {
    throw err instanceof EngineError ? fromEngineError(err.code, err.message, { prompt: "messages", images: images.map(i => i.name ?? "") }) : err;
  });
}

/**
 * Tokenizes the prompt once (the engine then decodes these ids, so nothing is tokenized twice),
 * refuses a prompt that leaves no room to answer, and lowers max tokens to the room left.
 * Returns the prompt's token count.
 */
export async function fitToContext(prepared: Pick<PreparedChat, "generate">, model: Pick<AcquiredModel, "engine" | "info">): Promise<number> {
  const ids = await promptIds(prepared, model);
  const most = model.info.nCtx - 1;
  if (ids.length > most) {
    throw badRequest(`prompt is too long: ${ids.length} tokens > ${most} maximum`, { param: "messages", code: "context_length_exceeded" });
  }
  const room = model.info.nCtx - ids.length;
  const max = prepared.generate.maxTokens;
  // A prompt with images stays segments: the runner lays the images out (their tokens are not in `ids`).
  const decoded = prepared.generate.images?.length ? {} : { prompt: ids, addSpecial: false };
  prepared.generate = { ...prepared.generate, ...decoded, maxTokens: max === null ? null : Math.min(max, room) };
  return ids.length;
}
