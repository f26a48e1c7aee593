// The content of a JSON answer written after thinking: the grammar (api/chat-core/thinking.ts, as
// llama-server's) lets the model put blanks around the value and wrap it in a ```json fence; the
// client gets the value alone, as llama-server returns it. Works on streamed pieces: blanks and a
// possible fence are held back until what follows shows whether they belong to the value.

const BLANK = /^[ \t\r\n]*/;
const FENCE = "```json";
/** A tail that may still turn out to be the answer's end: blanks, a closing fence, blanks. */
const TAIL = /[ \t\r\n]*(`{1,3}[ \t\r\n]*)?$/;

export class JsonAnswerTrim {
  private lead = true;
  private fenced = false;
  private held = "";

  push(text: string): string {
    this.held += text;
    if (this.lead) {
      const t = this.held.replace(BLANK, "");
      if (t.length < FENCE.length && FENCE.startsWith(t)) return "";
      this.lead = false;
      this.fenced = t.startsWith(FENCE);
      this.held = this.fenced ? t.slice(FENCE.length).replace(BLANK, "") : t;
    }
    const tail = TAIL.exec(this.held)!;
    const out = this.held.slice(0, tail.index);
    this.held = this.held.slice(tail.index);
    return out;
  }

  end(): string {
    const rest = this.lead ? "" : this.held;
    this.held = "";
    // Blanks after the value are the grammar's, and so is a closing fence after an opening one.
    if (/^[ \t\r\n]*$/.test(rest)) return "";
    if (this.fenced && /^[ \t\r\n]*```[ \t\r\n]*$/.test(rest)) return "";
    return rest;
  }
}
