// The chat page of `aichat serve`: it talks to this server's own OpenAI-compatible API.
// Answers are Markdown: markdown-it turns them into HTML with raw HTML escaped as text, DOMPurify
// keeps only the tags Markdown makes and only http(s) links, and the result goes into the page as
// a DOM fragment. Everything else from the network or the user is set with textContent.
"use strict";

const STORE = "aichat.chats";
const SETTINGS = "aichat.settings";
const OLD_STORE = "aichat.chat"; // the one-conversation store of earlier versions
const KEY = "aichat.key";
const UNDO_MS = 10000;
const $ = (id) => document.getElementById(id);

const store = load();
let draft = newDraft(); // the chat shown when none is chosen; saved once it has a message
let running = null; // { controller, chat, item } while an answer is streaming
let missed = false; // another tab saved while this one was answering
let undo = null; // { chat, index, wasCurrent, timer } after a delete

function newDraft() {
  return { id: null, title: "", created: 0, updated: 0, system: "", messages: [] };
}

function uid() {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
}

function validMessages(list) {
  return Array.isArray(list)
    ? list.filter(
        (m) =>
          m && (m.role === "user" || m.role === "assistant") && typeof m.content === "string"
      )
    : [];
}

function load() {
  const result = { chats: [], current: null, model: "", temperature: 0.5 };
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
    if (Array.isArray(saved.chats)) {
      for (const c of saved.chats) {
        if (!c || typeof c.id !== "string") continue;
        result.chats.push({
          id: c.id,
          title: typeof c.title === "string" ? c.title : "Untitled",
          created: Number(c.created) || Date.now(),
          updated: Number(c.updated) || Date.now(),
          system: typeof c.system === "string" ? c.system : "",
          messages: validMessages(c.messages),
        });
      }
    }
    if (result.chats.some((c) => c.id === saved.current)) result.current = saved.current;
    const settings = JSON.parse(localStorage.getItem(SETTINGS) || "{}");
    if (typeof settings.model === "string") result.model = settings.model;
    if (typeof settings.temperature === "number") result.temperature = settings.temperature;
    migrate(result);
  } catch {
    /* unreadable storage: start empty */
  }
  return result;
}

// An earlier version kept one conversation under OLD_STORE: it becomes the first saved chat.
function migrate(result) {
  const old = JSON.parse(localStorage.getItem(OLD_STORE) || "null");
  if (!old) return;
  const messages = validMessages(old.messages);
  if (messages.length) {
    const now = Date.now();
    const chat = {
      id: uid(),
      title: titleFrom(messages),
      created: now,
      updated: now,
      system: typeof old.system === "string" ? old.system : "",
      messages,
    };
    result.chats.unshift(chat);
    result.current = chat.id;
  }
  if (typeof old.model === "string" && !result.model) result.model = old.model;
  if (typeof old.temperature === "number") result.temperature = old.temperature;
  localStorage.removeItem(OLD_STORE);
  saveTo(result);
}

function saveTo(data) {
  try {
    localStorage.setItem(STORE, JSON.stringify({ chats: data.chats, current: data.current }));
    localStorage.setItem(
      SETTINGS,
      JSON.stringify({ model: data.model, temperature: data.temperature })
    );
  } catch {
    /* private mode or full: the chat still works, it is just not kept */
  }
}

function save() {
  saveTo(store);
}

function current() {
  return store.chats.find((c) => c.id === store.current) || draft;
}

function titleFrom(messages) {
  const first = messages.find((m) => m.role === "user");
  const text = first ? first.content.replace(/\s+/g, " ").trim() : "";
  if (!text) return "New chat";
  return text.length > 48 ? text.slice(0, 47) + "…" : text;
}

// A draft becomes a saved chat when its first message is sent.
function keep(chat) {
  if (chat.id) return;
  const now = Date.now();
  chat.id = uid();
  chat.created = now;
  chat.title = titleFrom(chat.messages);
  store.chats.unshift(chat);
  store.current = chat.id;
  draft = newDraft();
}

function touch(chat) {
  chat.updated = Date.now();
  if (missed) takeStored(chat);
  save();
  renderChats();
}

// Take the list another tab saved, keeping this tab's open chat, and `mine` as this tab has it
// (its answer came while the other tab saved: both changes are kept).
function takeStored(mine) {
  missed = false;
  const fresh = load();
  if (mine && mine.id) {
    const at = fresh.chats.findIndex((c) => c.id === mine.id);
    if (at >= 0) fresh.chats[at] = mine;
    else fresh.chats.unshift(mine); // deleted there while answering here: the answer is kept
  }
  const open = store.current;
  store.chats = fresh.chats;
  store.current = store.chats.some((c) => c.id === open) ? open : null;
}

function headers() {
  const result = { "Content-Type": "application/json" };
  const key = sessionStorage.getItem(KEY);
  if (key) result.Authorization = "Bearer " + key;
  return result;
}

// --- Markdown ----------------------------------------------------------------------------------

const PURIFY = {
  ALLOWED_TAGS: [
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "span", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
  ],
  ALLOWED_ATTR: ["href", "title", "class", "start"],
  ALLOWED_URI_REGEXP: /^https?:\/\//i,
  RETURN_DOM_FRAGMENT: true,
};

let md = null;

function markdown() {
  if (md) return md;
  md = window.markdownit({
    html: false, // raw HTML in an answer is shown as text
    linkify: true,
    breaks: true, // a chat answer's single newlines are line breaks
    highlight: highlightCode,
  });
  // An image in an answer would be a request to anywhere: show it as a link to follow instead.
  md.renderer.rules.image = (tokens, index) => {
    const token = tokens[index];
    const src = token.attrGet("src") || "";
    const alt = token.content || src;
    const escape = md.utils.escapeHtml;
    return '<a href="' + escape(src) + '">' + escape("[image: " + alt + "]") + "</a>";
  };
  window.DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName !== "A") return;
    if (node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  return md;
}

function highlightCode(code, language) {
  const escape = md.utils.escapeHtml;
  const known = language && window.hljs && window.hljs.getLanguage(language);
  let inner = escape(code);
  if (known) {
    try {
      inner = window.hljs.highlight(code, { language, ignoreIllegals: true }).value;
    } catch {
      /* shown plain */
    }
  }
  const name = language ? " language-" + escape(language) : "";
  return '<pre><code class="hljs' + name + '">' + inner + "</code></pre>";
}

function renderMarkdown(container, text) {
  const fragment = window.DOMPurify.sanitize(markdown().render(text), PURIFY);
  container.replaceChildren(fragment);
  for (const pre of container.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const copy = el("button", "copy", "Copy");
    copy.type = "button";
    copy.setAttribute("aria-label", "Copy this code");
    copy.addEventListener("click", () => copyText(code ? code.textContent : "", copy, "Copy"));
    pre.append(copy);
  }
}

// --- rendering ---------------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, label, onClick, className) {
  const node = el("button", className || "", text);
  node.type = "button";
  if (label) {
    node.setAttribute("aria-label", label);
    node.title = label;
  }
  node.addEventListener("click", onClick);
  return node;
}

async function copyText(text, target, label) {
  try {
    await navigator.clipboard.writeText(text);
    target.textContent = "Copied";
  } catch {
    target.textContent = "Copy failed";
  }
  setTimeout(() => (target.textContent = label), 1500);
}

function renderBody(body, role, text) {
  if (role === "assistant") {
    renderMarkdown(body, text);
  } else {
    body.replaceChildren(el("p", "plain", text));
  }
}

function turn(role, text, index) {
  const item = el("li", "turn " + role);
  if (index !== undefined) item.dataset.index = String(index);
  item.append(el("span", "who", role === "user" ? "You" : "Assistant"));
  const body = el("div", "body");
  renderBody(body, role, text);
  item.append(body);
  $("log").append(item);
  showEmpty();
  item.scrollIntoView({ block: "end" });
  return item;
}

// Copy on every message, Edit on the user's, Regenerate on the last answer.
function refreshActions() {
  const messages = current().messages;
  for (const item of $("log").children) {
    item.querySelector(".msg-actions")?.remove();
    if (item.dataset.index === undefined) continue;
    const index = Number(item.dataset.index);
    const message = messages[index];
    if (!message) continue;
    const bar = el("div", "msg-actions");
    const copy = button("Copy", "Copy message", () => copyText(message.content, copy, "Copy"));
    bar.append(copy);
    if (message.role === "user") {
      bar.append(button("Edit", "Edit and resend", () => editMessage(item, index)));
    } else if (index === messages.length - 1) {
      bar.append(button("Regenerate", "Regenerate this answer", regenerate));
    }
    for (const b of bar.children) b.disabled = Boolean(running) && b.textContent !== "Copy";
    item.append(bar);
  }
}

function renderAll() {
  const chat = current();
  $("log").replaceChildren();
  chat.messages.forEach((message, index) => turn(message.role, message.content, index));
  if (running && running.chat === chat) $("log").append(running.item);
  $("system").value = chat.system;
  $("system-box").open = Boolean(chat.system);
  refreshActions();
  showEmpty();
  renderChats();
}

function showEmpty() {
  $("empty").hidden = $("log").children.length > 0;
  const nothing = current().messages.length === 0;
  $("export-md").disabled = nothing;
  $("export-json").disabled = nothing;
}

function showError(item, message, retry) {
  stopWriting(item);
  item.classList.add("error");
  const body = item.querySelector(".body");
  body.replaceChildren(el("p", "plain", message));
  if (retry) {
    const actions = el("div", "actions");
    const again = button("Retry", "", () => {
      item.remove();
      ask();
    });
    actions.append(again);
    body.append(actions);
    again.focus();
  }
}

// The animated "writing" mark, with the seconds waited.
function startWriting(item) {
  const started = Date.now();
  const mark = el("span", "writing");
  const dots = el("span", "dots");
  dots.setAttribute("aria-hidden", "true");
  dots.append(el("i"), el("i"), el("i"));
  const waited = el("span", "waited", "0 s");
  waited.setAttribute("aria-hidden", "true");
  mark.append(dots, " writing… ", waited);
  item.querySelector(".who").after(mark);
  item.classList.add("pending");
  item.writingTimer = setInterval(() => {
    waited.textContent = Math.floor((Date.now() - started) / 1000) + " s";
  }, 1000);
}

function stopWriting(item) {
  clearInterval(item.writingTimer);
  item.querySelector(".writing")?.remove();
  item.classList.remove("pending");
}

// --- the conversation list -----------------------------------------------------------------------

function matches(chat, query) {
  if (!query) return true;
  const q = query.toLowerCase();
  return (
    chat.title.toLowerCase().includes(q) ||
    chat.messages.some((m) => m.content.toLowerCase().includes(q))
  );
}

function renderChats() {
  const query = $("search").value.trim();
  const list = $("chats");
  list.replaceChildren();
  const shown = [...store.chats]
    .sort((a, b) => b.updated - a.updated)
    .filter((chat) => matches(chat, query));
  for (const chat of shown) {
    const item = el("li", "chat");
    const open = button(chat.title, "", () => openChat(chat.id), "open");
    if (chat.id === store.current) {
      item.classList.add("current");
      open.setAttribute("aria-current", "true");
    }
    item.append(
      open,
      button("✎", "Rename " + chat.title, () => renameChat(item, chat), "icon"),
      button("✕", "Delete " + chat.title, () => deleteChat(chat), "icon")
    );
    list.append(item);
  }
  $("no-chats").hidden = shown.length > 0;
  $("no-chats").textContent = query ? "No chat matches." : "No saved chats yet.";
}

function openChat(id) {
  store.current = id;
  save();
  renderAll();
  closeSidebar();
  $("prompt").focus();
}

function newChat() {
  store.current = null;
  draft = newDraft();
  save();
  renderAll();
  closeSidebar();
  $("prompt").focus();
}

function renameChat(item, chat) {
  const input = el("input", "rename");
  input.value = chat.title;
  input.setAttribute("aria-label", "New name for this chat");
  let done = false;
  const finish = (keepIt) => {
    if (done) return;
    done = true;
    const title = input.value.trim();
    if (keepIt && title) {
      chat.title = title.slice(0, 120);
      save();
    }
    renderChats();
    const again = [...$("chats").querySelectorAll(".open")].find(
      (b) => b.textContent === chat.title
    );
    again?.focus();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      finish(true);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      finish(false);
    }
  });
  input.addEventListener("blur", () => finish(true));
  item.querySelector(".open").replaceWith(input);
  input.focus();
  input.select();
}

function deleteChat(chat) {
  const index = store.chats.indexOf(chat);
  if (index < 0) return;
  if (running && running.chat === chat) running.controller.abort();
  if (undo) clearTimeout(undo.timer);
  const wasCurrent = store.current === chat.id;
  store.chats.splice(index, 1);
  if (wasCurrent) store.current = null;
  save();
  renderAll();
  undo = { chat, index, wasCurrent, timer: setTimeout(hideToast, UNDO_MS) };
  $("toast-text").textContent = "Deleted “" + chat.title + "”.";
  $("toast").hidden = false;
  $("undo").focus();
}

function undoDelete() {
  if (!undo) return;
  clearTimeout(undo.timer);
  store.chats.splice(Math.min(undo.index, store.chats.length), 0, undo.chat);
  if (undo.wasCurrent) store.current = undo.chat.id;
  undo = null;
  save();
  renderAll();
  hideToast();
  $("prompt").focus();
}

function hideToast() {
  undo = null;
  const hadFocus = $("toast").contains(document.activeElement);
  $("toast").hidden = true;
  if (hadFocus) $("prompt").focus();
}

function openSidebar(open) {
  $("sidebar").classList.toggle("open", open);
  $("toggle-chats").setAttribute("aria-expanded", String(open));
}

function closeSidebar() {
  openSidebar(false);
}

// --- export ------------------------------------------------------------------------------------

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function fileName(chat, extension) {
  const slug = chat.title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return (slug.slice(0, 40) || "chat") + "." + extension;
}

function asMarkdown(chat) {
  const parts = ["# " + chat.title, ""];
  if (chat.system) parts.push("**System:** " + chat.system, "");
  for (const message of chat.messages) {
    parts.push("## " + (message.role === "user" ? "You" : "Assistant"), "", message.content, "");
  }
  return parts.join("\n");
}

function asJson(chat) {
  const system = chat.system ? [{ role: "system", content: chat.system }] : [];
  return JSON.stringify(
    {
      title: chat.title,
      created: new Date(chat.created).toISOString(),
      updated: new Date(chat.updated).toISOString(),
      model: store.model,
      messages: [...system, ...chat.messages],
    },
    null,
    2
  );
}

// --- the API -----------------------------------------------------------------------------------

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
  if (store.model && [...select.options].some((o) => o.value === store.model)) {
    select.value = store.model;
  }
  store.model = select.value;
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

function conversation(chat) {
  const system = chat.system.trim();
  const head = system ? [{ role: "system", content: system }] : [];
  return [...head, ...chat.messages];
}

async function ask() {
  const chat = current();
  const item = el("li", "turn assistant");
  item.append(el("span", "who", "Assistant"), el("div", "body"));
  $("log").append(item);
  showEmpty();
  startWriting(item);
  item.scrollIntoView({ block: "end" });
  const controller = new AbortController();
  running = { controller, chat, item };
  setBusy(true);
  let text = "";
  let frame = 0;
  const body = item.querySelector(".body");
  const paint = () => {
    frame = 0;
    renderMarkdown(body, text);
    item.scrollIntoView({ block: "end" });
  };
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: headers(),
      signal: controller.signal,
      body: JSON.stringify({
        model: store.model || "gpt-3.5-turbo",
        messages: conversation(chat),
        temperature: store.temperature,
        stream: true,
      }),
    });
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401 && error.code === "invalid_api_key") {
        stopWriting(item);
        item.remove();
        running = null;
        await askForKey(sessionStorage.getItem(KEY) ? "That key was refused." : "");
        return ask();
      }
      showError(item, error.message, true);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
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
            const first = !text;
            text += delta.content;
            if (first) {
              paint(); // the first words at once, the rest at most once a frame
              item.dataset.firstTextAt = String(Date.now());
            } else if (!frame) {
              frame = requestAnimationFrame(paint);
            }
          }
        }
      }
    }
    if (frame) cancelAnimationFrame(frame);
    paint();
    stopWriting(item);
    finish(chat, item, text);
  } catch (error) {
    if (frame) cancelAnimationFrame(frame);
    if (controller.signal.aborted) {
      if (text) {
        paint();
        stopWriting(item);
        finish(chat, item, text);
        item.querySelector(".body").append(el("p", "note", "(stopped)"));
      } else {
        showError(item, "Stopped before any answer came.", true);
      }
    } else {
      showError(item, "The answer could not be read: " + error.message, true);
    }
  } finally {
    if (running && running.item === item) running = null;
    if (missed && !running) {
      takeStored(chat); // ended without an answer to save: take what the other tab saved
      renderChats();
    }
    setBusy(false);
    if (chat === current()) refreshActions();
  }
}

function finish(chat, item, text) {
  chat.messages.push({ role: "assistant", content: text });
  item.dataset.index = String(chat.messages.length - 1);
  touch(chat);
}

function setBusy(busy) {
  $("send").hidden = busy;
  $("stop").hidden = !busy;
  refreshActions();
  if (busy) $("stop").focus();
  else if (!$("toast").contains(document.activeElement)) $("prompt").focus();
}

function send(text) {
  text = text.trim();
  if (!text || running) return;
  const chat = current();
  chat.messages.push({ role: "user", content: text });
  keep(chat);
  touch(chat);
  turn("user", text, chat.messages.length - 1);
  $("prompt").value = "";
  ask();
}

function regenerate() {
  const chat = current();
  if (running || chat.messages.at(-1)?.role !== "assistant") return;
  chat.messages.pop();
  touch(chat);
  renderAll();
  ask();
}

function editMessage(item, index) {
  if (running) return;
  const chat = current();
  const body = item.querySelector(".body");
  item.querySelector(".msg-actions")?.remove();
  const form = el("form", "edit");
  const box = el("textarea");
  box.value = chat.messages[index].content;
  box.rows = Math.min(10, box.value.split("\n").length + 1);
  box.setAttribute("aria-label", "Edit message");
  const resend = el("button", "", "Send");
  resend.type = "submit";
  form.append(box, button("Cancel", "", () => renderAll()), resend);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text || running) return;
    chat.messages.splice(index);
    chat.messages.push({ role: "user", content: text });
    if (index === 0) chat.title = titleFrom(chat.messages);
    touch(chat);
    renderAll();
    ask();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      event.stopPropagation();
      renderAll();
    }
  });
  body.replaceChildren(form);
  box.focus();
}

// --- wiring ------------------------------------------------------------------------------------

function onShortcut(event) {
  const mod = event.ctrlKey || event.metaKey;
  const dialogOpen = document.querySelector("dialog[open]");
  if (mod && event.shiftKey && event.key.toLowerCase() === "o") {
    event.preventDefault();
    if (!dialogOpen) newChat();
  } else if (event.shiftKey && event.key === "Escape") {
    event.preventDefault();
    if (!dialogOpen) $("prompt").focus();
  } else if (mod && (event.key === "/" || event.key === "?")) {
    event.preventDefault();
    if (!dialogOpen) $("help-dialog").showModal();
  } else if (event.key === "Escape" && running && !dialogOpen) {
    event.preventDefault();
    running.controller.abort();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("temperature").value = String(store.temperature);
  renderAll();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send($("prompt").value);
  });
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send($("prompt").value);
    }
  });
  for (const example of document.querySelectorAll(".example")) {
    example.addEventListener("click", () => send(example.textContent));
  }
  document.addEventListener("keydown", onShortcut);
  window.addEventListener("storage", (event) => {
    // another tab of this page saved: take its list (after this tab's answer, if one is coming)
    if (event.key !== STORE) return;
    if (running) {
      missed = true;
      return;
    }
    takeStored(null);
    renderAll();
  });
  $("stop").addEventListener("click", () => running && running.controller.abort());
  $("new-chat").addEventListener("click", newChat);
  $("search").addEventListener("input", renderChats);
  $("undo").addEventListener("click", undoDelete);
  $("toggle-chats").addEventListener("click", () =>
    openSidebar(!$("sidebar").classList.contains("open"))
  );
  $("help").addEventListener("click", () => $("help-dialog").showModal());
  $("export-md").addEventListener("click", () =>
    download(fileName(current(), "md"), "text/markdown", asMarkdown(current()))
  );
  $("export-json").addEventListener("click", () =>
    download(fileName(current(), "json"), "application/json", asJson(current()))
  );
  $("system").addEventListener("change", () => {
    const chat = current();
    chat.system = $("system").value;
    if (chat.id) touch(chat);
  });
  $("model").addEventListener("change", () => {
    store.model = $("model").value;
    save();
  });
  $("temperature").addEventListener("change", () => {
    const value = Number($("temperature").value);
    if (Number.isFinite(value) && value >= 0 && value <= 2) {
      store.temperature = value;
      save();
    }
  });
  $("settings").addEventListener("submit", (event) => event.preventDefault());
  loadModels().catch((error) => note("The model list could not be loaded: " + error.message));
  $("prompt").focus();
});
