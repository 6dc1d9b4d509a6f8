// The chat page of `aichat serve`: it talks to this server's own OpenAI-compatible API.
// Text from the network is only ever set with textContent, never parsed as HTML.
"use strict";

const STORE = "aichat.chat";
const KEY = "aichat.key";
const $ = (id) => document.getElementById(id);

const state = load();
let running = null; // { controller, turn } while an answer is streaming

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
    return {
      messages: Array.isArray(saved.messages) ? saved.messages : [],
      system: typeof saved.system === "string" ? saved.system : "",
      model: typeof saved.model === "string" ? saved.model : "",
      temperature: typeof saved.temperature === "number" ? saved.temperature : 0.5,
    };
  } catch {
    return { messages: [], system: "", model: "", temperature: 0.5 };
  }
}

function save() {
  try {
    localStorage.setItem(STORE, JSON.stringify(state));
  } catch {
    /* private mode or full: the chat still works, it is just not kept */
  }
}

function headers() {
  const result = { "Content-Type": "application/json" };
  const key = sessionStorage.getItem(KEY);
  if (key) result.Authorization = "Bearer " + key;
  return result;
}

// --- rendering -------------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Plain text with ``` fences shown as code blocks (each with a copy button).
function renderText(container, text) {
  container.replaceChildren();
  const parts = text.split(/```/);
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      const newline = part.indexOf("\n");
      const language = newline > 0 ? part.slice(0, newline).trim() : "";
      const code = newline >= 0 && /^[\w+-]*$/.test(language) ? part.slice(newline + 1) : part;
      const pre = el("pre");
      const codeNode = el("code", language ? "language-" + language : "", code.replace(/\n$/, ""));
      const copy = el("button", "copy", "Copy");
      copy.type = "button";
      copy.setAttribute("aria-label", "Copy this code");
      copy.addEventListener("click", () => copyText(codeNode.textContent, copy));
      pre.append(codeNode, copy);
      container.append(pre);
    } else if (part) {
      container.append(el("p", "", part.replace(/^\n+|\n+$/g, "")));
    }
  });
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed";
  }
  setTimeout(() => (button.textContent = "Copy"), 1500);
}

function turn(role, text) {
  const item = el("li", "turn " + role);
  item.append(el("span", "who", role === "user" ? "You" : "Assistant"));
  const body = el("div", "body");
  renderText(body, text);
  item.append(body);
  $("log").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function renderAll() {
  $("log").replaceChildren();
  for (const message of state.messages) turn(message.role, message.content);
}

function showError(item, message, retry) {
  item.classList.remove("pending");
  item.classList.add("error");
  const body = item.querySelector(".body");
  body.replaceChildren(el("p", "", message));
  if (retry) {
    const actions = el("div", "actions");
    const again = el("button", "", "Retry");
    again.type = "button";
    again.addEventListener("click", () => {
      item.remove();
      ask();
    });
    actions.append(again);
    body.append(actions);
    again.focus();
  }
}

// --- the API ---------------------------------------------------------------------------------

async function errorOf(response) {
  try {
    const data = await response.json();
    if (data && data.error) return data.error;
  } catch {
    /* not JSON: say what we know */
  }
  return { message: "The server answered HTTP " + response.status + ".", code: null };
}

async function loadModels() {
  const response = await fetch("/v1/models", { headers: headers() });
  if (response.status === 401) {
    const error = await errorOf(response);
    await askForKey(sessionStorage.getItem(KEY) ? "That key was refused." : "");
    if (error.code === "invalid_api_key") return loadModels();
  }
  if (!response.ok) {
    note("The model list could not be loaded: " + (await errorOf(response)).message);
    return;
  }
  const data = await response.json();
  const select = $("model");
  select.replaceChildren();
  for (const entry of data.data || []) {
    const option = el("option", "", entry.id);
    option.value = entry.id;
    select.append(option);
  }
  if (state.model && [...select.options].some((o) => o.value === state.model)) {
    select.value = state.model;
  }
  state.model = select.value;
  note("");
}

function note(text) {
  $("model-note").textContent = text;
  $("model-note").hidden = !text;
}

function askForKey(problem) {
  return new Promise((resolve) => {
    const dialog = $("key-dialog");
    $("key-error").textContent = problem;
    $("key-error").hidden = !problem;
    $("api-key").value = "";
    dialog.addEventListener(
      "close",
      () => {
        const key = $("api-key").value.trim();
        if (key) sessionStorage.setItem(KEY, key);
        resolve();
      },
      { once: true }
    );
    dialog.showModal();
    $("api-key").focus();
  });
}

function conversation() {
  const head = state.system.trim() ? [{ role: "system", content: state.system.trim() }] : [];
  return [...head, ...state.messages];
}

async function ask() {
  const item = turn("assistant", "");
  item.classList.add("pending");
  const controller = new AbortController();
  running = { controller, item };
  setBusy(true);
  let text = "";
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: headers(),
      signal: controller.signal,
      body: JSON.stringify({
        model: state.model || "gpt-3.5-turbo",
        messages: conversation(),
        temperature: state.temperature,
        stream: true,
      }),
    });
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401 && error.code === "invalid_api_key") {
        item.remove();
        await askForKey(sessionStorage.getItem(KEY) ? "That key was refused." : "");
        return ask();
      }
      showError(item, error.message, true);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const body = item.querySelector(".body");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
          if (delta && delta.content) {
            if (!text) item.dataset.firstTextAt = String(Date.now());
            text += delta.content;
            renderText(body, text);
            item.scrollIntoView({ block: "end" });
          }
        }
      }
    }
    item.classList.remove("pending");
    state.messages.push({ role: "assistant", content: text });
    save();
  } catch (error) {
    if (controller.signal.aborted) {
      item.classList.remove("pending");
      if (text) {
        state.messages.push({ role: "assistant", content: text });
        save();
        item.querySelector(".body").append(el("p", "note", "(stopped)"));
      } else {
        showError(item, "Stopped before any answer came.", true);
      }
    } else {
      showError(item, "The answer could not be read: " + error.message, true);
    }
  } finally {
    running = null;
    setBusy(false);
  }
}

function setBusy(busy) {
  $("send").hidden = busy;
  $("stop").hidden = !busy;
  if (busy) $("stop").focus();
  else $("prompt").focus();
}

function send() {
  const text = $("prompt").value.trim();
  if (!text || running) return;
  state.messages.push({ role: "user", content: text });
  save();
  turn("user", text);
  $("prompt").value = "";
  ask();
}

// --- wiring ----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("system").value = state.system;
  if (state.system) $("system-box").open = true;
  $("temperature").value = String(state.temperature);
  renderAll();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => running && running.controller.abort());
  $("new-chat").addEventListener("click", () => {
    if (running) running.controller.abort();
    state.messages = [];
    save();
    renderAll();
    $("prompt").focus();
  });
  $("system").addEventListener("change", () => {
    state.system = $("system").value;
    save();
  });
  $("model").addEventListener("change", () => {
    state.model = $("model").value;
    save();
  });
  $("temperature").addEventListener("change", () => {
    const value = Number($("temperature").value);
    if (Number.isFinite(value) && value >= 0 && value <= 2) {
      state.temperature = value;
      save();
    }
  });
  $("settings").addEventListener("submit", (event) => event.preventDefault());
  loadModels().catch((error) => note("The model list could not be loaded: " + error.message));
  $("prompt").focus();
});
