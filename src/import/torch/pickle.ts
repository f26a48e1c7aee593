// A restricted pickle reader. It interprets the opcodes a torch.save state dict uses (protocols
// 2–5) as data, never as code: a GLOBAL names a callable, and only names in `allowed` are accepted —
// any other (os.system, builtins.eval, …) is refused with its name as soon as the opcode is read,
// before anything after it is looked at. Calls (REDUCE, NEWOBJ, BUILD) are routed to the
// allowed entries' own TypeScript implementations.
import { ImportError } from "../errors.ts";

export type PyValue = unknown;
export interface Global { kind: "global"; module: string; name: string }
export type Callables = Record<string, (args: PyValue[]) => PyValue>;

const MARK = Symbol("mark");

export function unpickle(
  data: Uint8Array,
  allowed: Callables,
  persistentLoad: (pid: PyValue) => PyValue,
  where: string,
): PyValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dec = new TextDecoder();
  const stack: PyValue[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  const fail = (msg: string): never => { throw new ImportError(`${where}: ${msg}`); };
  const need = (n: number) => { if (pos + n > data.length) fail("truncated pickle"); };
  const u8 = () => { need(1); return data[pos++]!; };
  const u16 = () => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const i32 = () => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u64 = () => { need(8); const v = Number(view.getBigUint64(pos, true)); pos += 8; return v; };
  const bytes = (n: number) => { need(n); const b = data.subarray(pos, pos + n); pos += n; return b; };
  const line = () => { const end = data.indexOf(10, pos); if (end < 0) fail("truncated pickle"); const s = dec.decode(data.subarray(pos, end)); pos = end + 1; return s; };
  const pop = () => (stack.length ? stack.pop() : fail("stack underflow"));
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("MARK missing");
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const global = (module: string, name: string): Global => {
    const key = `${module}.${name}`;
    if (!Object.hasOwn(allowed, key)) fail(`refused: the pickle calls ${key}, which a checkpoint has no need for (only ${Object.keys(allowed).join(", ")} are allowed)`);
    return { kind: "global", module, name };
  };
  const call = (f: PyValue, args: PyValue[]) => {
    const g = f as Global;
    if (g?.kind !== "global") fail("call of something that is not an allowed global");
    return allowed[`${g.module}.${g.name}`]!(args);
  };
  const setItems = (d: PyValue, items: PyValue[]) => {
    if (!(d instanceof Map)) fail("SETITEMS on something that is not a dict");
    for (let i = 0; i + 1 < items.length; i += 2) (d as Map<PyValue, PyValue>).set(items[i], items[i + 1]);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x8a: { // LONG1
        const n = u8();
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        break;
      }
      case 0x47: { need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT
      case 0x58: stack.push(dec.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(dec.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(dec.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x55: stack.push(dec.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x54: stack.push(dec.decode(bytes(u32()))); break; // BINSTRING
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x71: memo.set(u8(), stack.at(-1)); break; // BINPUT
      case 0x72: memo.set(u32(), stack.at(-1)); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack.at(-1)); break; // MEMOIZE
      case 0x68: { const k = u8(); if (!memo.has(k)) fail("bad memo reference"); stack.push(memo.get(k)); break; } // BINGET
      case 0x6a: { const k = u32(); if (!memo.has(k)) fail("bad memo reference"); stack.push(memo.get(k)); break; } // LONG_BINGET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = stack.at(-1); if (!Array.isArray(l)) fail("APPEND to a non-list"); (l as PyValue[]).push(v); break; }
      case 0x65: { const items = popMark(); const l = stack.at(-1); if (!Array.isArray(l)) fail("APPENDS to a non-list"); (l as PyValue[]).push(...items); break; }
      case 0x64: { const d = new Map(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(stack.at(-1), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(stack.at(-1), items); break; } // SETITEMS
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(global(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const f = pop(); stack.push(call(f, args as PyValue[])); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, args as PyValue[])); break; } // NEWOBJ
      case 0x62: { // BUILD: only empty state (OrderedDict, parameters) is meaningful for a state dict
        const state = pop();
        const empty = state == null || (state instanceof Map && state.size === 0) || (Array.isArray(state) && state.length === 0);
        if (!empty && !(Array.isArray(state) && state.every(s => s == null || (s instanceof Map && s.size === 0)))) fail("BUILD with state is not supported in a state dict");
        break;
      }
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}
