// The settings panel: system prompt, sampling fields (blank = the model's default), and a preview
// of the exact prompt the server renders for this conversation (POST /apply-template).
import { h } from "preact";
import { useState } from "preact/hooks";
import htm from "htm";
import { request } from "./api.js";

const html = htm.bind(h);

function NumberField({ label, name, settings, onChange, step, min, max }) {
  return html`<label>${label}
    <input type="number" name=${name} step=${step} min=${min} max=${max} placeholder="model default"
      value=${settings[name]} onInput=${e => onChange({ ...settings, [name]: e.currentTarget.value })} />
  </label>`;
}

export function Settings({ settings, onChange, messages, model }) {
  const [preview, setPreview] = useState(null);
  const showPrompt = async () => {
    const sent = messages.filter(m => !m.pending && !m.error).map(({ role, content }) => ({ role, content }));
    const all = settings.system.trim() ? [{ role: "system", content: settings.system }, ...sent] : sent;
    if (all.length === 0) all.push({ role: "user", content: "" });
    try {
      const res = await request("/apply-template", { method: "POST", body: { model, messages: all } });
      setPreview((await res.json()).prompt);
    } catch (err) {
      setPreview(`Could not render the prompt: ${err.message}`);
    }
  };
  return html`<section class="panel" aria-label="Settings">
    <div class="grid">
      <label class="wide">System prompt
        <textarea name="system" placeholder="You are a helpful assistant." value=${settings.system}
          onInput=${e => onChange({ ...settings, system: e.currentTarget.value })}></textarea>
      </label>
      <${NumberField} label="Temperature" name="temperature" step="0.1" min="0" max="2" settings=${settings} onChange=${onChange} />
      <${NumberField} label="Top p" name="top_p" step="0.05" min="0" max="1" settings=${settings} onChange=${onChange} />
      <${NumberField} label="Max tokens" name="max_tokens" step="1" min="1" settings=${settings} onChange=${onChange} />
      <div><button type="button" onClick=${showPrompt}>Show rendered prompt</button></div>
      ${preview != null ? html`<pre class="prompt-preview">${preview}</pre>` : null}
    </div>
  </section>`;
}

/** The request fields the settings set; blank ones are left to the server. */
export function samplingFields(settings) {
  const out = {};
  for (const name of ["temperature", "top_p", "max_tokens"]) {
    const value = String(settings[name] ?? "").trim();
    if (value !== "" && Number.isFinite(Number(value))) out[name] = Number(value);
  }
  return out;
}
