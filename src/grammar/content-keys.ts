// Equal JSON values get equal keys, in time linear in their size: each object or array is keyed
// once (by identity) from its children's keys, so a value built by copying another's members
// (the converter's merges) costs only its own members. Keys compare order-sensitively, as
// JSON.stringify would.

type Node = Record<string, unknown> | unknown[];

const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null;

export class ContentKeys {
  private readonly byIdentity = new WeakMap<object, string>();
  private readonly byText = new Map<string, string>();

  /** `onNode` sees each object or array keyed, with its member count (a converter's budget). */
  constructor(private readonly onNode?: (members: number) => void) {}

  /** A short key for `value`: equal for equal JSON, different otherwise. */
  of(value: unknown): string {
    if (!isNode(value)) return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? "undefined"); // never starts with "#"
    const known = this.byIdentity.get(value);
    if (known !== undefined) return known;
    // Children before parents, without recursion (merged schemas can nest thousands deep).
    const open = new Set<object>();
    const stack: Node[] = [value];
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      if (this.byIdentity.has(node)) {
        stack.pop();
        continue;
      }
      if (!open.has(node)) {
        open.add(node);
        for (const child of Array.isArray(node) ? node : Object.values(node)) { // (Object.values of a big array is slow)
          if (!isNode(child) || this.byIdentity.has(child)) continue;
          if (open.has(child)) throw new TypeError("a JSON value cannot contain itself");
          stack.push(child);
        }
        continue;
      }
      stack.pop();
      open.delete(node);
      this.byIdentity.set(node, this.intern(node));
    }
    return this.byIdentity.get(value)!;
  }

  /** Keys of `node`'s members must be known already. */
  private intern(node: Node): string {
    this.onNode?.(Array.isArray(node) ? node.length : Object.keys(node).length);
    const text = Array.isArray(node)
      ? `[${node.map(v => this.of(v)).join(",")}]`
      : `{${Object.entries(node).map(([k, v]) => `${JSON.stringify(k)}:${this.of(v)}`).join(",")}}`;
    let key = this.byText.get(text);
    if (key === undefined) {
      key = `#${this.byText.size}`;
      this.byText.set(text, key);
    }
    return key;
  }
}
