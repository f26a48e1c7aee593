// Renders chat templates under limits. A chat template is code from a model file, run in the HTTP
// process that every model and /health share, on every chat request, and @huggingface/jinja has
// no limits of its own: `range(10**9)` builds a billion-item list, a loop that doubles a string
// runs out of memory, a list holding itself twice, 40 levels deep, prints 2^40 items. So templates
// render here through an interpreter that counts and measures as it goes:
//  - steps: every statement and expression evaluated; `range(n)` counts its n items before it
//    builds them;
//  - size: every string, list or dict an expression yields is measured against `chars` (a list or
//    dict by what printing it writes, a shared part counted each time it would be printed) and its
//    nesting against `depth`; the filters and methods whose output can outgrow their input many
//    times in one step (replace, indent, join, split, tojson) are checked before they run;
//  - time: a deadline read every 1024 steps, the backstop for what steps and sizes cannot see
//    (many steps that each scan one large string).
// Steps and sizes are deterministic: a template and a conversation pass or fail the same way on
// any machine. The limits grow with the conversation, so ordinary templates stay far below them
// (see limitsFor); a template that reaches one is broken or hostile.
// (Past 350 lines on purpose: every guard — steps, sizes, nesting, the checked filters — hooks the
// same interpreter subclass and shares its counters; split apart, each would need them passed in.)
import { Environment, Interpreter, parse, tokenize } from "@huggingface/jinja";
import { TemplateLimitError } from "./template-errors.ts";

export interface TemplateLimits {
  /** Statements and expressions evaluated in one render (`range(n)` counts n). */
  steps: number;
  /** Characters one value may hold (a list or dict: what printing it writes). */
  chars: number;
  /** Lists and dicts nested in each other. */
  depth: number;
  /** Statements and expressions being evaluated inside each other (macro recursion), kept well inside the stack. */
  nesting: number;
  /** Milliseconds one render may take: the backstop. */
  ms: number;
}

/** What a render is given, measured: text, values, and messages (some templates look back over all earlier messages for each one). */
export interface InputSize {
  chars: number;
  items: number;
  messages: number;
}

/**
 * Limits for a render of `input`. Ordinary templates take 50 to 400 steps per message or tool
 * (one, Gemma 4's, about 2 per pair of messages) and write each input about once; these allow
 * 500 steps per input value plus 4 per pair of messages, eight copies of the input, and a floor
 * that the smallest conversation gets. So a template's budget grows with the request, as its
 * honest cost does, and a hostile template stops within about a second on a small request. The
 * deadline allows a microsecond per step of budget, several times what ordinary templates need.
 */
export function limitsFor(input: InputSize): TemplateLimits {
  const steps = 250_000 + 500 * input.items + 4 * input.messages * input.messages;
  return { steps, chars: 4_000_000 + 8 * input.chars, depth: 512, nesting: 4_000, ms: 1_000 + steps / 1_000 };
}

export interface RenderOptions {
  /** Overrides of the limits limitsFor gives (tests). */
  limits?: Partial<TemplateLimits>;
  /** The clock the deadline is read from (tests). */
  now?: () => number;
}

/** A parsed template that renders under limits. Parsing is linear in the template's length. */
export class BoundedTemplate {
  private readonly program: ReturnType<typeof parse>;

  constructor(source: string) {
    this.program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }));
    rewriteFilterBlocks(this.program);
  }

  /** Renders with `context` as the template's variables; the template globals win over same-named ones. */
  render(context: Record<string, unknown>, options: RenderOptions = {}): string {
    const limits = { ...limitsFor(inputSize(context)), ...options.limits };
    const env = new Environment();
    const interpreter = new BoundedInterpreter(env, limits, options.now ?? performance.now.bind(performance));
    const globals: Record<string, unknown> = { ...constants, raise_exception: raiseException, strftime_now: strftimeNow, range: interpreter.range };
    for (const [name, value] of Object.entries(globals)) env.set(name, value);
    for (const [name, value] of Object.entries(context)) if (!(name in globals) && name !== "namespace") env.set(name, value);
    try {
      return (interpreter.run(this.program) as { value: string }).value;
    } catch (err) {
      // Recursion too deep for the stack, a string past the engine's maximum: limits too.
      if (err instanceof RangeError) throw new TemplateLimitError(`it went past a limit of the JavaScript engine (${err.message})`);
      throw err;
    }
  }
}

const constants = { true: true, false: false, none: null, True: true, False: false, None: null };

function raiseException(message: string): never {
  throw new Error(message);
}

function strftimeNow(format: string): string {
  return strftime(new Date(), format);
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** The strftime codes chat templates use, with English month names as llama.cpp writes them. */
export function strftime(d: Date, format: string): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return format.replace(/%[YmdbBHM%]/g, code => {
    switch (code) {
      case "%Y": return String(d.getFullYear());
      case "%m": return pad(d.getMonth() + 1);
      case "%d": return pad(d.getDate());
      case "%b": return MONTHS[d.getMonth()]!.slice(0, 3);
      case "%B": return MONTHS[d.getMonth()]!;
      case "%H": return pad(d.getHours());
      case "%M": return pad(d.getMinutes());
      default: return "%";
    }
  });
}

/** The size of a render's variables (plain JSON-like data). */
function inputSize(context: Record<string, unknown>): InputSize {
  let chars = 0;
  let items = 0;
  const stack: unknown[] = Object.values(context);
  while (stack.length > 0) {
    const v = stack.pop();
    items++;
    if (typeof v === "string") chars += v.length;
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (v && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        chars += k.length;
        stack.push(child);
      }
    }
  }
  return { chars, items, messages: Array.isArray(context.messages) ? context.messages.length : 0 };
}

// ---- The AST and runtime values, as far as this module reads them ----------------------------
// @huggingface/jinja exports neither its node nor its value classes, so they are read by shape;
// every value carries a `type` tag ("StringValue", "ArrayValue", …).

type Statement = NonNullable<Parameters<Interpreter["evaluate"]>[0]>;
type Value = ReturnType<Interpreter["evaluate"]>;
interface Node {
  type: string;
  [field: string]: any;
}
interface Loose {
  type: string;
  value: any;
}

const COMPOSITES = new Set(["ArrayValue", "TupleValue", "ObjectValue", "KeywordArgumentsValue", "NamespaceValue"]);
const isComposite = (v: Loose) => COMPOSITES.has(v.type);

/** `{% filter f %}…{% endfilter %}` → the expression `(…)|f`, so that a filter block is checked as a filter is. */
function rewriteFilterBlocks(node: unknown): unknown {
  if (!node || typeof node !== "object") return node;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child = rewriteFilterBlocks(node[i]);
      if (child !== node[i]) node[i] = child;
    }
    return node;
  }
  const n = node as Node;
  for (const key of Object.keys(n)) {
    const child = rewriteFilterBlocks(n[key]);
    if (child !== n[key]) n[key] = child;
  }
  // A Program evaluates its body in the same scope, as a filter block does.
  return n.type === "FilterStatement" ? { type: "FilterExpression", operand: { type: "Program", body: n.body }, filter: n.filter } : n;
}

/** A filter or method call whose output can be many times its input, with the nodes it reads. */
interface Guard {
  name: string;
  /** The filter's operand, or the method's receiver. */
  target: Node;
  args: Node[];
  /** A method's receiver is evaluated after its arguments; a filter's operand before. */
  method: boolean;
}

const GUARDED_FILTERS = new Set(["replace", "indent", "join", "tojson"]);
const GUARDED_METHODS = new Set(["replace", "split"]);

function guardOf(node: Node): Guard | null {
  if (node.type === "FilterExpression") {
    const f = node.filter as Node;
    if (f.type === "CallExpression" && f.callee.type === "Identifier" && GUARDED_FILTERS.has(f.callee.value)) {
      return { name: f.callee.value, target: node.operand, args: f.args, method: false };
    }
    return null;
  }
  if (node.type === "CallExpression") {
    const callee = node.callee as Node;
    if (callee.type === "MemberExpression" && !callee.computed && callee.property.type === "Identifier" && GUARDED_METHODS.has(callee.property.value)) {
      return { name: callee.property.value, target: callee.object, args: node.args, method: true };
    }
  }
  return null;
}

/** What printing a list or dict writes (an upper bound), how deep it nests, and how many values it holds. */
interface Measure {
  chars: number;
  depth: number;
  nodes: number;
  /** False where a namespace (which can change) is inside: measured again each time. */
  stable: boolean;
}

/** Where a list or dict keeps its measure (on the value itself: cheaper than a WeakMap at every step). */
const MEASURE = Symbol("hearth.measure");

const CLOCK_EVERY = 1024;

/** A dict's methods that @huggingface/jinja has (ObjectValue's builtins). */
const DICT_METHODS = new Set(["items", "keys", "values", "get"]);

class BoundedInterpreter extends Interpreter {
  private steps = 0;
  private nesting = 0;
  private nextClock = CLOCK_EVERY;
  private readonly deadline: number;
  /** Values a guard evaluated ahead of the library, handed back when the library evaluates those nodes. */
  private readonly ahead = new Map<Statement, Value>();

  constructor(
    env: Environment,
    private readonly limits: TemplateLimits,
    private readonly now: () => number,
  ) {
    super(env);
    this.deadline = now() + limits.ms;
  }

  /** `range` for templates: the items count as steps before the list is built. */
  readonly range = (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new Error("range() step must not be zero");
    const count = Math.ceil((stop - start) / step);
    if (count > 0) this.tick(count);
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
    return out;
  };

  override evaluate(statement: Statement | undefined, environment: Environment): Value {
    if (!statement) return super.evaluate(statement, environment);
    if (this.ahead.size > 0) {
      const value = this.ahead.get(statement);
      if (value !== undefined) {
        this.ahead.delete(statement);
        return value;
      }
    }
    this.tick(1);
    if (this.nesting >= this.limits.nesting) throw new TemplateLimitError(`it nests calls more than ${this.limits.nesting} deep (a macro that calls itself without end?)`);
    this.nesting++;
    let value: Value;
    let guard: Guard | null = null;
    try {
      const type = statement.type;
      if (type === "FilterExpression" || type === "CallExpression") guard = guardOf(statement as unknown as Node);
      if (guard) this.checkAhead(guard, environment);
      value = (type === "MemberExpression" && this.dictMethod(statement as unknown as Node, environment)) || super.evaluate(statement, environment);
    } finally {
      this.nesting--;
      // Whatever the library did not ask for (it refused the call first) must not answer a later evaluation.
      if (guard) this.ahead.clear();
    }
    this.check(value as Loose);
    return value;
  }

  /**
   * `d.items` (and `keys`, `values`, `get`) is the dict's method, as Python's Jinja2 reads it (an
   * attribute comes before a key for `.`), even when `d` has a key of that name: gpt-oss's template
   * calls `properties.items()` on tools whose parameters may be named "items" (Codex's are), and
   * @huggingface/jinja would give the key. Undefined where that does not apply; the object, once
   * evaluated, is handed to the library's own lookup rather than evaluated twice.
   */
  private dictMethod(node: Node, environment: Environment): Value | undefined {
    if (node.computed || node.property?.type !== "Identifier" || !DICT_METHODS.has(node.property.value)) return undefined;
    const object = this.evaluate(node.object as Statement, environment) as Value & { builtins?: Map<string, Value> };
    const method = (object as Loose).type === "ObjectValue" ? object.builtins?.get(node.property.value) : undefined;
    if (method !== undefined) return method;
    this.ahead.set(node.object as Statement, object);
    return undefined;
  }

  private tick(n: number): void {
    this.steps += n;
    if (this.steps > this.limits.steps) throw new TemplateLimitError(`it takes more than ${this.limits.steps} steps (a loop that does not end?)`);
    if (this.steps >= this.nextClock) {
      this.nextClock = this.steps + CLOCK_EVERY;
      if (this.now() > this.deadline) throw new TemplateLimitError(`it takes longer than ${this.limits.ms} ms`);
    }
  }

  /** Refuses a value past the size or nesting limits. */
  private check(v: Loose): void {
    const inner = v.value;
    if (typeof inner === "string") {
      if (inner.length > this.limits.chars) throw this.tooLarge(inner.length);
    } else if (inner !== null && typeof inner === "object" && isComposite(v)) this.measure(v, 0);
  }

  private tooLarge(chars: number): TemplateLimitError {
    return new TemplateLimitError(`it builds a value of ${chars > this.limits.chars * 100 ? "far " : ""}more than ${this.limits.chars} characters`);
  }

  /** Lists and dicts never change once made, so their measure is kept on them; namespaces change, and are measured each time. */
  private measure(v: Loose, depth: number): Measure {
    const known = (v as { [MEASURE]?: Measure })[MEASURE];
    if (known) return known;
    if (depth > this.limits.depth) throw new TemplateLimitError(`it nests lists or dicts more than ${this.limits.depth} deep (or one inside itself)`);
    const m: Measure = { chars: 2, depth: 1, nodes: 1, stable: v.type !== "NamespaceValue" };
    const add = (item: Loose, keyChars: number) => {
      let chars = 8;
      const inner = item.value;
      if (typeof inner === "string") chars = inner.length + 2;
      else if (inner !== null && typeof inner === "object" && isComposite(item)) {
        const sub = this.measure(item, depth + 1);
        m.stable &&= sub.stable;
        chars = sub.chars;
        if (sub.depth >= m.depth) m.depth = sub.depth + 1;
        m.nodes += sub.nodes;
      }
      m.chars += chars + keyChars + 2;
      m.nodes++;
      if (m.chars > this.limits.chars) throw this.tooLarge(m.chars);
    };
    if (Array.isArray(v.value)) for (const item of v.value) add(item, 0);
    else for (const [key, item] of v.value as Map<string, Loose>) add(item, key.length + 4);
    if (m.stable) (v as { [MEASURE]?: Measure })[MEASURE] = m;
    return m;
  }

  /** Evaluates a guarded call's inputs in the library's order, checks what the call would write, and leaves the values for the library. */
  private checkAhead(g: Guard, env: Environment): void {
    if (g.args.some(a => a.type === "SpreadExpression" || a.type === "KeywordSpreadExpression")) {
      throw new TemplateLimitError(`it unpacks arguments (* or **) into ${g.name}, which Hearth cannot check before it runs`);
    }
    const values = new Map<Statement, Value>();
    const take = (node: Node) => {
      const value = this.evaluate(node as unknown as Statement, env);
      values.set(node as unknown as Statement, value);
      return value as Loose;
    };
    let target = g.method ? null : take(g.target);
    const positional = g.args.filter(a => a.type !== "KeywordArgumentExpression").map(take);
    const keywords = new Map(g.args.filter(a => a.type === "KeywordArgumentExpression").map(a => [a.key.value as string, take(a.value)]));
    target ??= take(g.target);
    const chars = this.output(g.name, target, positional, keywords);
    if (chars > this.limits.chars) throw new TemplateLimitError(`its ${g.name} would write ${chars} characters, more than ${this.limits.chars}`);
    for (const [node, value] of values) this.ahead.set(node, value);
  }

  /** An upper bound on the characters (or, for lists, what printing them writes) the call yields; 0 where the library will refuse it. */
  private output(name: string, target: Loose, positional: Loose[], keywords: Map<string, Loose>): number {
    const text = target.type === "StringValue" ? (target.value as string) : null;
    const str = (v: Loose | undefined) => (v?.type === "StringValue" ? (v.value as string) : null);
    switch (name) {
      case "replace": {
        const [from, to] = [str(positional[0]), str(positional[1])];
        if (text === null || from === null || to === null) return 0;
        const count = positional[2] ?? keywords.get("count");
        const most = count?.type === "IntegerValue" && count.value >= 0 ? count.value : Infinity;
        const growth = to.length - from.length;
        if (growth <= 0) return text.length;
        // Matches past what would reach the limit need not be counted.
        const needed = Math.min(most, Math.floor((this.limits.chars - text.length) / growth) + 1);
        return text.length + growth * occurrences(text, from, needed);
      }
      case "indent": {
        const width = positional[0] ?? keywords.get("width");
        const w = width === undefined ? 4 : width.type === "IntegerValue" ? width.value : 0;
        return text === null ? 0 : text.length + Math.max(0, w) * (occurrences(text, "\n", Infinity) + 1);
      }
      case "join": {
        const sep = str(positional[0] ?? keywords.get("separator"))?.length ?? 0;
        if (text !== null) return text.length * (1 + sep);
        return target.type === "ArrayValue" || target.type === "TupleValue" ? this.measure(target, 0).chars + target.value.length * sep : 0;
      }
      case "split": {
        const sep = str(positional[0]);
        if (text === null) return 0;
        return text.length + 4 * (sep ? occurrences(text, sep, Infinity) + 1 : text.length);
      }
      case "tojson": {
        const indent = keywords.get("indent");
        const perLine = indent?.type === "IntegerValue" ? Math.max(0, indent.value) : 0;
        const separators = keywords.get("separators");
        const sepChars = separators && isComposite(separators) && Array.isArray(separators.value) ? separators.value.reduce((n: number, s: Loose) => n + (str(s)?.length ?? 0), 0) : 0;
        const perChar = keywords.get("ensure_ascii")?.value === true ? 6 : 1;
        const m = text !== null ? { chars: text.length + 2, depth: 0, nodes: 1 } : isComposite(target) ? this.measure(target, 0) : { chars: 32, depth: 0, nodes: 1 };
        return m.chars * perChar + m.nodes * (perLine * m.depth + sepChars + 1);
      }
    }
    return 0;
  }
}

/** How many times `needle` occurs in `text`, counting no further than `most`. */
function occurrences(text: string, needle: string, most: number): number {
  if (needle === "") return Math.min(most, text.length + 1);
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0 && n < most; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}
