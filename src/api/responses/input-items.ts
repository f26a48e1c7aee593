// GET /v1/responses/{id}/input_items: the items a stored response was asked with, as OpenAI lists
// them (a cursor page, newest first unless order=asc). Each item gets an id when it is stored, so
// pages and cursors stay stable; a message's string content is shown as its text part.
import { badRequest } from "../errors.ts";
import { newId } from "./output.ts";
import type { InputItem, InputItemsQuery } from "./schema.ts";

const ID_PREFIX: Record<string, string> = { message: "msg", function_call: "fc", function_call_output: "fco", reasoning: "rs", custom_tool_call: "ctc", custom_tool_call_output: "ctco" };

/** This request's input items as they are listed: with ids, messages' text as parts. */
export function listedInputItems(items: InputItem[]): Array<Record<string, unknown>> {
  return items.map(item => {
    const type = item.type ?? "message";
    const out: Record<string, unknown> = { ...item, type };
    if (typeof out.id !== "string") out.id = newId(ID_PREFIX[type] ?? "item");
    if (type === "message" && typeof out.content === "string") {
      const role = (item as { role?: string }).role;
      out.content = [{ type: role === "assistant" ? "output_text" : "input_text", text: out.content }];
    }
    return out;
  });
}

export function inputItemsPage(items: Array<Record<string, unknown>>, query: InputItemsQuery) {
  const ordered = query.order === "asc" ? items : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = ordered.findIndex(i => i.id === query.after);
    if (at < 0) throw badRequest(`after names no input item of this response: '${query.after}'`, { param: "after" });
    start = at + 1;
  }
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  const data = ordered.slice(start, start + limit);
  return {
    object: "list",
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: start + limit < ordered.length,
  };
}
