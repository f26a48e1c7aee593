// What the page keeps in this browser's localStorage: conversations and settings.
const CONVERSATIONS = "hearth.conversations";
const SETTINGS = "hearth.settings";

function read(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? "null") ?? fallback;
  } catch {
    return fallback;
  }
}

export const loadConversations = () => read(CONVERSATIONS, []);

export function saveConversations(list) {
  // Answers still streaming are saved as they are; `pending` must not survive a reload.
  const clean = list.map(c => ({ ...c, messages: c.messages.map(({ pending, ...m }) => m) }));
  try {
    localStorage.setItem(CONVERSATIONS, JSON.stringify(clean));
  } catch {
    /* storage full or disabled: the page keeps working for this visit */
  }
}

/** Blank sampling fields mean "the server's default for this model". */
export const defaultSettings = { system: "", temperature: "", top_p: "", max_tokens: "", theme: "", model: "" };
export const loadSettings = () => ({ ...defaultSettings, ...read(SETTINGS, {}) });
export const saveSettings = settings => localStorage.setItem(SETTINGS, JSON.stringify(settings));

// crypto.randomUUID exists only on secure origins; a page served over plain http on a LAN still works.
const newId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

export const newConversation = model => ({ id: newId(), title: "New chat", model, messages: [], updated: Date.now() });

export function titleOf(messages) {
  const first = messages.find(m => m.role === "user")?.content.trim() ?? "";
  return first ? first.slice(0, 48) : "New chat";
}
