// Airlock's browser app: screenshots in, streamed and sanitized pages out.
// No dependencies. Model output is only ever put into the page as text; pages are
// shown through the server's preview URL in <iframe sandbox="allow-scripts">.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const MAX_IMAGES = 5;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
const KEY_STORAGE = "airlock-own-key";

const state = { images: [], providers: [], ownKey: sessionStorage.getItem(KEY_STORAGE) || "" };

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

// ---- screenshots ----------------------------------------------------------------

function addFiles(files) {
  for (const file of files) {
    if (!IMAGE_TYPES.includes(file.type)) {
      showError(`${file.name || "That file"} is not a PNG, JPEG, WebP or GIF image.`);
      continue;
    }
    if (state.images.length >= MAX_IMAGES) {
      showError(`At most ${MAX_IMAGES} screenshots.`);
      break;
    }
    const reader = new FileReader();
    reader.onload = () => {
      state.images.push({ name: file.name, dataUrl: reader.result });
      renderThumbs();
    };
    reader.readAsDataURL(file);
  }
}

function renderThumbs() {
  const thumbs = $("#thumbs");
  thumbs.replaceChildren();
  state.images.forEach((image, index) => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = image.dataUrl;
    img.alt = image.name || `screenshot ${index + 1}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `remove ${img.alt}`);
    remove.addEventListener("click", (event) => {
      event.stopPropagation();
      state.images.splice(index, 1);
      renderThumbs();
    });
    figure.append(img, remove);
    thumbs.append(figure);
  });
  $("#drop-hint").hidden = state.images.length > 0;
}

function setUpDrop() {
  const drop = $("#drop");
  const file = $("#file");
  drop.addEventListener("click", () => file.click());
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") file.click();
  });
  file.addEventListener("change", () => {
    showError("");
    addFiles(file.files);
    file.value = "";
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    showError("");
    addFiles(event.dataTransfer.files);
  });
  document.addEventListener("paste", (event) => {
    const files = [...event.clipboardData.items].filter((i) => i.kind === "file").map((i) => i.getAsFile());
    if (files.length) addFiles(files);
  });
}

// ---- providers and options -------------------------------------------------------

async function loadProviders() {
  try {
    const response = await fetch("/v1/providers");
    const body = await response.json();
    state.providers = body.providers || [];
  } catch {
    showError("Could not load the providers from the server.");
  }
  const select = $("#provider");
  select.replaceChildren(
    ...state.providers.map((p) => new Option(`${p.name}${p.key_configured ? "" : " (needs a key)"}`, p.name)),
  );
  select.addEventListener("change", fillModels);
  fillModels();
}

function fillModels() {
  const provider = state.providers.find((p) => p.name === $("#provider").value);
  const models = (provider && provider.models) || [];
  $("#models").replaceChildren(...models.map((m) => new Option(m.id, m.id)));
  if (models.length) $("#model").value = models[0].id;
}

function setUpKey() {
  const input = $("#own-key");
  const remember = $("#remember-key");
  input.value = state.ownKey;
  remember.checked = Boolean(sessionStorage.getItem(KEY_STORAGE));
  const sync = () => {
    state.ownKey = input.value.trim();
    if (remember.checked && state.ownKey) sessionStorage.setItem(KEY_STORAGE, state.ownKey);
    else sessionStorage.removeItem(KEY_STORAGE);
  };
  input.addEventListener("input", sync);
  remember.addEventListener("change", sync);
}

// ---- talking to the API ----------------------------------------------------------

function errorText(status, body) {
  const message = body && body.error ? body.error.message : `the server answered ${status}`;
  if (status === 401) return `The provider rejected the key: ${message}`;
  if (status === 429) return `Rate limited or over quota: ${message}`;
  return message;
}

// POSTs a generation and calls `onEvent(name, data)` for each server-sent event.
async function streamGeneration(body, onEvent) {
  const headers = { "content-type": "application/json" };
  if (state.ownKey) headers["x-airlock-provider-key"] = state.ownKey;
  const response = await fetch("/v1/generations", { method: "POST", headers, body: JSON.stringify(body) });
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {}
    throw new Error(errorText(response.status, parsed));
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
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

// ---- variants --------------------------------------------------------------------

class VariantCard {
  constructor(index, provider, model, stack) {
    this.provider = provider;
    this.model = model;
    this.stack = stack;
    this.versions = [];
    this.instructions = [];
    this.element = $("#variant-template").content.firstElementChild.cloneNode(true);
    this.element.dataset.index = index;
    $("h2", this.element).textContent = `Variant ${index + 1} · ${model}`;
    this.status = $(".status", this.element);
    this.code = $(".code code", this.element);
    this.frame = $(".preview", this.element);
    $(".tab-preview", this.element).addEventListener("click", () => this.showTab("preview"));
    $(".tab-code", this.element).addEventListener("click", () => this.showTab("code"));
    $(".copy", this.element).addEventListener("click", () => navigator.clipboard.writeText(this.current().code));
    $(".download", this.element).addEventListener("click", () => this.download());
    $(".update", this.element).addEventListener("submit", (event) => {
      event.preventDefault();
      this.update();
    });
    $(".undo", this.element).addEventListener("click", () => this.undo());
  }

  current() {
    return this.versions[this.versions.length - 1];
  }

  showTab(tab) {
    $(".tab-preview", this.element).setAttribute("aria-pressed", String(tab === "preview"));
    $(".tab-code", this.element).setAttribute("aria-pressed", String(tab === "code"));
    this.frame.hidden = tab !== "preview";
    $(".code", this.element).hidden = tab !== "code";
  }

  started() {
    this.code.textContent = "";
    this.status.className = "status";
    this.status.textContent = "generating…";
    this.showTab("code");
  }

  chunk(text) {
    this.code.textContent += text;
    this.status.textContent = `streaming… ${this.code.textContent.length} characters`;
  }

  completed(generation, index, data, instruction) {
    this.versions.push({ generation, index, code: data.code, instruction });
    this.code.textContent = data.code;
    const usage = data.usage ? ` · ${data.usage.prompt_tokens}+${data.usage.completion_tokens} tokens` : "";
    this.status.textContent = `done${usage}`;
    this.showPreview();
    this.showFindings(data.findings || []);
    this.renderHistory();
    $(".copy", this.element).disabled = false;
    $(".download", this.element).disabled = false;
  }

  failed(error) {
    this.status.className = "status failed";
    this.status.textContent = `failed: ${error.message}`;
  }

  showPreview() {
    const { generation, index } = this.current();
    this.frame.src = `/v1/generations/${generation}/variants/${index}/preview`;
    this.showTab("preview");
  }

  showFindings(findings) {
    const details = $(".findings", this.element);
    details.hidden = findings.length === 0;
    $("summary", details).textContent = `${findings.length} thing(s) removed by the sanitizers`;
    $("ul", details).replaceChildren(
      ...findings.map((f) => {
        const item = document.createElement("li");
        item.textContent = `${f.rule}: ${f.message}`;
        return item;
      }),
    );
  }

  renderHistory() {
    const select = $(".history", this.element);
    select.replaceChildren(
      ...this.versions.map((v, i) => new Option(`v${i + 1}${v.instruction ? ` — ${v.instruction}` : ""}`, String(i))),
    );
    select.value = String(this.versions.length - 1);
  }

  undo() {
    const keep = Number($(".history", this.element).value);
    if (keep >= this.versions.length - 1) return;
    this.versions = this.versions.slice(0, keep + 1);
    this.instructions = this.instructions.slice(0, keep);
    this.code.textContent = this.current().code;
    this.showPreview();
    this.renderHistory();
  }

  async update() {
    const input = $(".instruction", this.element);
    const instruction = input.value.trim();
    if (!instruction || !this.current()) return;
    showError("");
    const history = [...this.instructions, instruction];
    const body = {
      stack: this.stack,
      provider: this.provider,
      model: this.model,
      variants: 1,
      update: { code: this.current().code, history },
    };
    this.started();
    let generation = null;
    try {
      await streamGeneration(body, (name, data) => {
        if (name === "generation.created") generation = data.id;
        else if (name === "variant.chunk") this.chunk(data.text);
        else if (name === "variant.completed") {
          this.instructions = history;
          input.value = "";
          this.completed(generation, 0, data, instruction);
        } else if (name === "variant.failed") this.failed(data.error);
      });
    } catch (error) {
      this.failed(error);
      showError(error.message);
    }
  }

  download() {
    const blob = new Blob([this.current().code], { type: "text/html" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `airlock-${this.stack}.html`;
    link.click();
    URL.revokeObjectURL(link.href);
  }
}

async function generate(event) {
  event.preventDefault();
  showError("");
  const description = $("#description").value.trim();
  if (!state.images.length && !description) {
    showError("Add a screenshot or describe the page.");
    return;
  }
  const stack = $("#stack").value;
  const provider = $("#provider").value;
  const model = $("#model").value.trim();
  const body = {
    stack,
    provider,
    model,
    variants: Number($("#variants").value),
    instructions: $("#instructions").value.trim() || undefined,
  };
  if (state.images.length) body.images = state.images.map((i) => ({ data: i.dataUrl }));
  else body.description = description;

  const results = $("#results");
  results.replaceChildren();
  const button = $("#generate");
  button.disabled = true;
  let cards = [];
  let generation = null;
  try {
    await streamGeneration(body, (name, data) => {
      if (name === "generation.created") {
        generation = data.id;
        cards = Array.from({ length: data.variants }, (_, i) => new VariantCard(i, provider, model, stack));
        cards.forEach((card) => {
          results.append(card.element);
          card.started();
        });
      } else if (name === "variant.chunk") cards[data.index].chunk(data.text);
      else if (name === "variant.completed") cards[data.index].completed(generation, data.index, data, null);
      else if (name === "variant.failed") cards[data.index].failed(data.error);
    });
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

setUpDrop();
setUpKey();
loadProviders();
$("#create").addEventListener("submit", generate);
