// Splits a model's answer, as it streams, into content and tool calls. Content flows through
// except a tail that may open a tool call (held back, like stop strings); a section that opens
// is parsed again on every piece and only what is new is emitted: a call's name first, then its
// argument text in deltas that are exact prefixes of the final `arguments`.
import type { ToolFormat } from "./formats.ts";
import type { PartialCall, ToolCall, ToolDefinition } from "./types.ts";

/** What one piece of output adds. */
export interface ToolStreamDelta {
  content: string;
  calls: Array<{ index: number; id?: string; name?: string; arguments: string }>;
}

export class ToolCallStream {
  private buffer = "";
  /** Text before `buffer` has been decided (emitted as content or parsed as calls). */
  private atStart = true;
  private inSection: ToolFormat | null = null;
  /** Calls of earlier sections, and what was emitted of the current one's. */
  private readonly done: ToolCall[] = [];
  private emitted: Array<{ id: string; name: string; args: string }> = [];
  /** Content held back because it is blank and a call may follow (trimmed away when one does). */
  private blank = "";

  constructor(
    private readonly formats: ToolFormat[],
    private readonly tools: ToolDefinition[],
    private readonly newId: () => string,
  ) {}

  push(text: string): ToolStreamDelta {
    this.buffer += text;
    return this.advance(false);
  }

  /** The end of the answer: everything held back is decided. */
  end(): ToolStreamDelta {
    return this.advance(true);
  }

  /** Every call so far, in order (finished and partial). */
  get calls(): ToolCall[] {
    return [...this.done, ...this.emitted.map(e => ({ id: e.id, name: e.name, arguments: e.args }))];
  }

  private advance(final: boolean): ToolStreamDelta {
    const out: ToolStreamDelta = { content: "", calls: [] };
    for (;;) {
      if (this.inSection) {
        if (!this.section(out, final)) break;
        continue;
      }
      // Content: find where a section opens (an anchored one only at the very start).
      const anchored = this.atStart ? this.anchoredStart(final) : "no";
      if (anchored === "maybe") break;
      if (anchored !== "no") {
        this.inSection = anchored;
        continue;
      }
      let at = -1;
      let format: ToolFormat | null = null;
      for (const f of this.formats) {
        for (const trigger of f.triggers) {
          const i = this.buffer.indexOf(trigger);
          if (i >= 0 && (at < 0 || i < at)) [at, format] = [i, f];
        }
      }
      if (format) {
        this.content(out, this.buffer.slice(0, at), true);
        this.buffer = this.buffer.slice(at);
        this.atStart = false;
        this.inSection = format;
        continue;
      }
      const keep = final ? 0 : this.partialTriggerTail();
      this.content(out, this.buffer.slice(0, this.buffer.length - keep), final);
      this.buffer = this.buffer.slice(this.buffer.length - keep);
      break;
    }
    if (final && this.blank && this.calls.length === 0) {
      out.content += this.blank;
      this.blank = "";
    }
    return out;
  }

  /** Emits content, holding back trailing blanks (dropped if a call follows). */
  private content(out: ToolStreamDelta, text: string, beforeCall: boolean): void {
    const trimmed = text.trimEnd();
    if (trimmed) {
      out.content += this.blank + trimmed;
      this.blank = "";
      this.atStart = false;
    }
    this.blank = beforeCall ? "" : this.blank + text.slice(trimmed.length);
  }

  private anchoredStart(final: boolean): ToolFormat | "maybe" | "no" {
    if (this.buffer.trim() === "" && !final) return "maybe";
    let maybe = false;
    for (const f of this.formats) {
      const verdict = f.anchored?.(this.buffer, this.tools) ?? "no";
      if (verdict === "yes") return f;
      if (verdict === "maybe") maybe = true;
    }
    return maybe && !final ? "maybe" : "no";
  }

  /** Parses the open section; returns true when it closed and content follows. */
  private section(out: ToolStreamDelta, final: boolean): boolean {
    const format = this.inSection!;
    const parsed = format.parse(this.buffer, this.tools);
    if (!parsed) {
      // Not a call after all: what was held back is content (once anything was emitted, the rest is dropped).
      this.inSection = null;
      if (this.emitted.length === 0) {
        this.atStart = false;
        const [head, rest] = this.splitAfterTrigger(format);
        this.content(out, head, false);
        this.buffer = rest;
        return true;
      }
      this.finishSection();
      this.buffer = "";
      return false;
    }
    parsed.calls.forEach((call, i) => this.emitCall(out, call, i, final));
    if (parsed.end === null) {
      if (final) {
        // Cut off: calls begun stay as they are; a section with none is plain text.
        if (this.emitted.length === 0) this.content(out, this.buffer, false);
        this.finishSection();
        this.buffer = "";
      }
      return false;
    }
    this.finishSection();
    this.buffer = this.buffer.slice(parsed.end);
    this.atStart = false;
    return true;
  }

  /** A section that turned out not to be a call: its trigger is content, the rest is searched again. */
  private splitAfterTrigger(format: ToolFormat): [string, string] {
    const trigger = format.triggers.find(t => this.buffer.startsWith(t));
    if (trigger) return [trigger, this.buffer.slice(trigger.length)];
    return [this.buffer, ""];
  }

  private emitCall(out: ToolStreamDelta, call: PartialCall, i: number, final: boolean): void {
    if (call.name === null) return;
    const index = this.done.length + i;
    let seen = this.emitted[i];
    if (!seen) {
      seen = { id: this.newId(), name: call.name, args: "" };
      this.emitted[i] = seen;
      out.calls.push({ index, id: seen.id, name: call.name, arguments: "" });
    }
    // Argument text only grows; a format that rebuilds it (GLM) sends it whole when complete.
    if (call.args.length > seen.args.length && call.args.startsWith(seen.args) && (call.complete || final || call.args !== "")) {
      out.calls.push({ index, arguments: call.args.slice(seen.args.length) });
      seen.args = call.args;
    }
  }

  private finishSection(): void {
    this.done.push(...this.emitted.map(e => ({ id: e.id, name: e.name, arguments: e.args })));
    this.emitted = [];
    this.inSection = null;
  }

  /** Length of the longest buffer tail that is a proper prefix of a trigger. */
  private partialTriggerTail(): number {
    let keep = 0;
    for (const f of this.formats) {
      for (const trigger of f.triggers) {
        for (let n = Math.min(trigger.length - 1, this.buffer.length); n > keep; n--) {
          if (this.buffer.endsWith(trigger.slice(0, n))) {
            keep = n;
            break;
          }
        }
      }
    }
    return keep;
  }
}
