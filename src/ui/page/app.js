// The Hearth chat page: conversations in a sidebar, a model picker from /v1/models, streamed
// answers with Stop, and settings. State lives here; messages and settings render in their modules.
import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { apiKey, events, request } from "./api.js";
import { Thumbnails, apiContent, imagesOf } from "./attachments.js";
import { Message } from "./message.js";
import { Settings, samplingFields } from "./settings.js";
import { loadConversations, loadSettings, newConversation, saveConversations, saveSettings, titleOf } from "./store.js";

const html = htm.bind(h);

function humanSize(bytes) {
  if (bytes == null) return null;
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

function humanParams(n) {
  if (!n) return null;
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B params` : n >= 1e6 ? `${(n / 1e6).toFixed(0)}M params` : `${(n / 1e3).toFixed(0)}K params`;
}

function modelLabel(m) {
  const meta = m.meta ?? {};
  const state = meta.state === "failed" ? "failed to load" : meta.state;
  const parts = [meta.family, humanParams(meta.parameters), meta.quantization, humanSize(meta.size_bytes), state].filter(Boolean);
  return `${m.id} — ${parts.join(", ")}`;
}

function useTheme(choice) {
  useEffect(() => {
    const media = matchMedia("(prefers-color-scheme: dark)");
    const apply = () => (document.documentElement.dataset.theme = choice || (media.matches ? "dark" : "light"));
    apply();
    media.addEventListener("change", apply);
    return () => media.removeEventListener("change", apply);
  }, [choice]);
}

// The width under which the sidebar is a drawer; the same number as style.css's media query.
const PHONE_WIDTH = "(max-width: 760px)";

/** Calls `onCross` whenever the window crosses the phone-width breakpoint, either way. */
function useBreakpointChange(onCross) {
  useEffect(() => {
    const phone = matchMedia(PHONE_WIDTH);
    phone.addEventListener("change", onCross);
    return () => phone.removeEventListener("change", onCross);
  }, []);
}

function KeyForm({ onSave }) {
  const [key, setKey] = useState("");
  return html`<form class="keyform" aria-label="API key" onSubmit=${e => (e.preventDefault(), onSave(key.trim()))}>
    <span>This server needs an API key. It is kept only in this browser.</span>
    <input type="password" name="api-key" autocomplete="off" placeholder="API key" value=${key} onInput=${e => setKey(e.currentTarget.value)} />
    <button class="primary" type="submit" disabled=${!key.trim()}>Use key</button>
  </form>`;
}

function App() {
  const [conversations, setConversations] = useState(loadConversations);
  const [currentId, setCurrentId] = useState(() => conversations.slice().sort((a, b) => b.updated - a.updated)[0]?.id ?? null);
  const [settings, setSettingsState] = useState(loadSettings);
  const [models, setModels] = useState([]);
  const [banner, setBanner] = useState(null);
  const [needKey, setNeedKey] = useState(false);
  const [streaming, setStreaming] = useState(null); // { convId, controller }
  const [draft, setDraft] = useState("");
  // Images attached to the next message (data: URLs).
  const [attached, setAttached] = useState([]);
  const attach = async files => {
    const images = await imagesOf(files);
    if (images.length) setAttached(list => [...list, ...images]);
    return images.length > 0;
  };
  const [showSettings, setShowSettings] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  // An open drawer is phone-width state. At desktop width the sidebar shows anyway (and the ✕ is
  // hidden), so a drawer left open there would come back over the conversation when the window
  // narrows again: crossing the breakpoint closes it.
  useBreakpointChange(() => setSidebarOpen(false));
  const scroller = useRef(null);
  useTheme(settings.theme);

  const current = conversations.find(c => c.id === currentId) ?? null;
  const model = current?.model || settings.model || models[0]?.id || "";
  const busy = streaming !== null;

  const setSettings = next => (setSettingsState(next), saveSettings(next));

  // Saved whenever nothing streams (and so once more right after each answer ends or stops).
  useEffect(() => {
    if (!streaming) saveConversations(conversations);
  }, [conversations, streaming]);

  const loadModels = async () => {
    try {
      const res = await request("/v1/models");
      setModels((await res.json()).data);
      setBanner(null);
    } catch (err) {
      if (err.needsKey) setNeedKey(true);
      else setBanner(err.message);
    }
  };
  useEffect(() => void loadModels(), []);

  // Keep the newest text in view unless the reader scrolled up.
  const lastText = current?.messages.at(-1)?.content;
  useEffect(() => {
    const el = scroller.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [lastText, currentId]);

  const updateConversation = (id, change) => setConversations(list => list.map(c => (c.id === id ? change(c) : c)));

  async function generate(convId, history, modelId) {
    const controller = new AbortController();
    const patchLast = change =>
      updateConversation(convId, c => ({ ...c, messages: c.messages.map((m, i) => (i === c.messages.length - 1 ? { ...m, ...change(m) } : m)) }));
    updateConversation(convId, c => ({
      ...c,
      model: modelId,
      title: titleOf(history),
      updated: Date.now(),
      messages: [...history, { role: "assistant", content: "", reasoning: "", model: modelId, pending: true }],
    }));
    setStreaming({ convId, controller });

    // Failed answers with no text are not part of what the model is shown.
    const sent = history.filter(m => !(m.role === "assistant" && m.error && !m.content)).map(m => ({ role: m.role, content: apiContent(m) }));
    const system = settings.system.trim() ? [{ role: "system", content: settings.system }] : [];
    const body = { model: modelId, messages: [...system, ...sent], stream: true, stream_options: { include_usage: true }, ...samplingFields(settings) };
    const started = performance.now();
    let ttftMs = null;
    let finishReason = null;
    let timings = null;
    let usage = null;
    try {
      const res = await request("/v1/chat/completions", { method: "POST", body, signal: controller.signal });
      for await (const chunk of events(res)) {
        timings = chunk.timings ?? timings;
        usage = chunk.usage ?? usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        finishReason = choice.finish_reason ?? finishReason;
        const content = choice.delta?.content ?? "";
        const reasoning = choice.delta?.reasoning_content ?? "";
        if (!content && !reasoning) continue;
        ttftMs ??= performance.now() - started;
        patchLast(m => ({ content: m.content + content, reasoning: m.reasoning + reasoning }));
      }
      const tokensPerSecond = timings?.predicted_per_second || null;
      patchLast(() => ({ stats: { ttftMs, tokensPerSecond, completionTokens: usage?.completion_tokens ?? timings?.predicted_n ?? null, finishReason } }));
    } catch (err) {
      if (err.name === "AbortError") patchLast(() => ({ stopped: true, stats: ttftMs == null ? null : { ttftMs } }));
      else {
        if (err.needsKey) setNeedKey(true);
        patchLast(() => ({ error: err.message }));
      }
    } finally {
      patchLast(() => ({ pending: false }));
      setStreaming(null);
    }
  }

  const send = () => {
    const text = draft.trim();
    if ((!text && attached.length === 0) || busy || !model) return;
    let conv = current;
    if (!conv) {
      conv = newConversation(model);
      setConversations(list => [conv, ...list]);
      setCurrentId(conv.id);
    }
    setDraft("");
    const images = attached;
    setAttached([]);
    void generate(conv.id, [...conv.messages, { role: "user", content: text, ...(images.length ? { images } : {}) }], model);
  };

  const regenerate = () => current && void generate(current.id, current.messages.slice(0, -1), model);
  const edit = (index, text) =>
    current && void generate(current.id, [...current.messages.slice(0, index), { ...current.messages[index], role: "user", content: text }], model);
  const remove = id => {
    if (streaming?.convId === id) streaming.controller.abort();
    setConversations(list => list.filter(c => c.id !== id));
    if (currentId === id) setCurrentId(null);
  };
  const pickModel = id => {
    setSettings({ ...settings, model: id });
    if (current) updateConversation(current.id, c => ({ ...c, model: id }));
  };
  const useKey = key => {
    apiKey.set(key);
    setNeedKey(false);
    void loadModels();
  };
  const cycleTheme = () => {
    const order = ["", "light", "dark"];
    setSettings({ ...settings, theme: order[(order.indexOf(settings.theme) + 1) % order.length] });
  };

  const sorted = conversations.slice().sort((a, b) => b.updated - a.updated);
  const messages = current?.messages ?? [];
  return html`<div class="layout">
    <aside class="sidebar ${sidebarOpen ? "open" : ""}" aria-label="Conversations">
      <div class="top">
        <button class="primary" onClick=${() => (setCurrentId(null), setSidebarOpen(false))}>New chat</button>
        <button class="menu" aria-label="Close" onClick=${() => setSidebarOpen(false)}>✕</button>
      </div>
      <ul class="conversations">
        ${sorted.map(
          c => html`<li key=${c.id} class=${c.id === currentId ? "current" : ""}>
            <button class="open" title=${c.title} onClick=${() => (setCurrentId(c.id), setSidebarOpen(false))}>${c.title}</button>
            <button class="link" aria-label="Delete conversation" title="Delete" onClick=${() => remove(c.id)}>✕</button>
          </li>`,
        )}
      </ul>
      <div class="foot">Hearth · <a href="/openapi">API description</a></div>
    </aside>
    <main class="main">
      <header>
        <button class="menu" aria-label="Conversations" onClick=${() => setSidebarOpen(true)}>☰</button>
        <div class="model">
          <select aria-label="Model" value=${model} onChange=${e => pickModel(e.currentTarget.value)}>
            ${models.length === 0 ? html`<option value="">no models</option>` : null}
            ${models.map(m => html`<option key=${m.id} value=${m.id}>${modelLabel(m)}</option>`)}
          </select>
        </div>
        <button aria-pressed=${showSettings} onClick=${() => setShowSettings(!showSettings)}>Settings</button>
        <button title="Theme: follow the system, light or dark" onClick=${cycleTheme}>${settings.theme ? `Theme: ${settings.theme}` : "Theme: auto"}</button>
      </header>
      ${needKey ? html`<${KeyForm} onSave=${useKey} />` : null}
      ${banner ? html`<div class="error" role="alert">${banner}</div>` : null}
      ${showSettings ? html`<${Settings} settings=${settings} onChange=${setSettings} messages=${messages} model=${model} />` : null}
      <div class="messages" ref=${scroller}>
        <div class="inner">
          ${messages.length === 0 ? html`<p class="empty">Ask ${model || "the model"} something.</p>` : null}
          ${messages.map(
            (m, i) => html`<${Message} key=${`${currentId}-${i}`} message=${m} busy=${busy} isLast=${i === messages.length - 1}
              onEdit=${text => edit(i, text)} onRegenerate=${regenerate} />`,
          )}
        </div>
      </div>
      <div class="composer">
        <${Thumbnails} images=${attached} onRemove=${i => setAttached(list => list.filter((_, j) => j !== i))} />
        <form onSubmit=${e => (e.preventDefault(), send())}>
          <label class="attach" title="Attach images (vision models); you can also paste them into the message">
            <input type="file" accept="image/*" multiple aria-label="Attach image" onChange=${e => (void attach(e.currentTarget.files), (e.currentTarget.value = ""))} />
            <span aria-hidden="true">+</span>
          </label>
          <textarea aria-label="Message" name="message" rows="2" placeholder="Message (Enter to send, Shift+Enter for a new line)" value=${draft}
            onInput=${e => setDraft(e.currentTarget.value)}
            onPaste=${e => e.clipboardData?.files?.length && (e.preventDefault(), void attach(e.clipboardData.files))}
            onKeyDown=${e => e.key === "Enter" && !e.shiftKey && !e.isComposing && (e.preventDefault(), send())}></textarea>
          ${busy
            ? html`<button type="button" class="stop" onClick=${() => streaming.controller.abort()}>Stop</button>`
            : html`<button type="submit" class="primary send" disabled=${(!draft.trim() && attached.length === 0) || !model}>Send</button>`}
        </form>
      </div>
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
