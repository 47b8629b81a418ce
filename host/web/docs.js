// Renders /openapi.json: operations by tag, their parameters, bodies and responses, and
// the schemas. Everything is built with DOM calls and textContent (no HTML strings).
"use strict";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function refName(ref) {
  return ref.replace("#/components/schemas/", "");
}

// A schema in one line: a link for a reference, else its type, nested.
function describe(schema) {
  if (!schema) return el("span", {}, "any");
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return el("a", { href: "#schema-" + name }, name);
  }
  const span = el("span");
  const variants = schema.oneOf || schema.anyOf || schema.allOf;
  if (variants) {
    const word = schema.oneOf ? " | " : schema.anyOf ? " or " : " & ";
    variants.forEach((variant, index) => {
      if (index) span.append(word);
      span.append(describe(variant));
    });
    return span;
  }
  let type = schema.type;
  if (Array.isArray(type)) type = type.join(" | ");
  if (type === "array" || (Array.isArray(schema.type) && schema.items)) {
    span.append(describe(schema.items), "[]");
    if (Array.isArray(schema.type) && schema.type.includes("null")) span.append(" | null");
    return span;
  }
  if (schema.enum) {
    span.append(schema.enum.map((value) => JSON.stringify(value)).join(" | "));
    return span;
  }
  if (type === "object" && schema.properties) {
    span.append(propertiesTable(schema));
    return span;
  }
  span.append(el("code", {}, type || "any"));
  if (schema.format) span.append(" (" + schema.format + ")");
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    span.append(" of ", describe(schema.additionalProperties));
  }
  return span;
}

function propertiesTable(schema) {
  const required = new Set(schema.required || []);
  const rows = Object.entries(schema.properties || {}).map(([name, property]) =>
    el(
      "tr",
      {},
      el("td", {}, el("code", {}, name), required.has(name) ? el("span", { class: "required" }, " required") : null),
      el("td", {}, describe(property)),
      el("td", {}, property.description || ""),
    ),
  );
  return el("table", {}, el("tr", {}, el("th", {}, "Field"), el("th", {}, "Type"), el("th", {}, "Description")), ...rows);
}

function content(media) {
  const list = el("div");
  for (const [type, body] of Object.entries(media || {})) {
    list.append(el("div", {}, el("code", {}, type), ": ", describe(body.schema)));
  }
  return list;
}

function operation(path, method, op, document) {
  const security = op.security || document.security || [];
  const needsKey = security.length > 0 && !security.some((requirement) => Object.keys(requirement).length === 0);
  const lock = security.length
    ? el("span", { class: "lock" }, needsKey ? "key required" : "key optional")
    : el("span", { class: "lock" }, "no key");
  const body = el("div");
  if (op.description) body.append(el("p", {}, op.description));
  const parameters = op.parameters || [];
  if (parameters.length) {
    body.append(el("h4", {}, "Parameters"));
    const rows = parameters.map((parameter) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", {}, parameter.name), parameter.required ? el("span", { class: "required" }, " required") : null),
        el("td", {}, parameter.in),
        el("td", {}, describe(parameter.schema)),
        el("td", {}, parameter.description || ""),
      ),
    );
    body.append(el("table", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "In"), el("th", {}, "Type"), el("th", {}, "Description")), ...rows));
  }
  if (op.requestBody) {
    body.append(el("h4", {}, "Request body"));
    if (op.requestBody.description) body.append(el("p", {}, op.requestBody.description));
    body.append(content(op.requestBody.content));
  }
  body.append(el("h4", {}, "Responses"));
  const rows = Object.entries(op.responses || {}).map(([status, response]) =>
    el("tr", {}, el("td", { class: "status" }, status), el("td", {}, response.description || ""), el("td", {}, content(response.content))),
  );
  body.append(el("table", {}, el("tr", {}, el("th", {}, "Status"), el("th", {}, "Description"), el("th", {}, "Body")), ...rows));
  const id = "op-" + method + path.replace(/[^a-zA-Z0-9]+/g, "-");
  return el(
    "details",
    { class: "operation", id },
    el("summary", {}, el("span", { class: "method " + method }, method), el("span", { class: "path" }, path), el("span", { class: "summary" }, op.summary || ""), lock),
    body,
  );
}

function render(document_) {
  document.getElementById("title").textContent = document_.info.title + " API " + document_.info.version;
  document.getElementById("description").textContent = document_.info.description || "";
  const groups = new Map();
  for (const [path, item] of Object.entries(document_.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push([path, method, item[method]]);
    }
  }
  const main = document.getElementById("operations");
  const toc = el("ul");
  main.replaceChildren();
  const tagText = new Map((document_.tags || []).map((tag) => [tag.name, tag.description]));
  for (const [tag, operations] of groups) {
    main.append(el("h2", { id: "tag-" + tag }, tag));
    if (tagText.get(tag)) main.append(el("p", {}, tagText.get(tag)));
    toc.append(el("li", {}, el("a", { href: "#tag-" + tag }, tag), " (" + operations.length + ")"));
    for (const [path, method, op] of operations) main.append(operation(path, method, op, document_));
  }
  document.getElementById("toc").replaceChildren(toc);
  const schemas = (document_.components && document_.components.schemas) || {};
  const list = document.getElementById("schemas");
  for (const name of Object.keys(schemas).sort()) {
    const schema = schemas[name];
    list.append(
      el("div", { class: "schema", id: "schema-" + name }, el("h3", {}, name), schema.description ? el("p", {}, schema.description) : null, describe(schema)),
    );
  }
  document.getElementById("schemas-section").hidden = false;
}

fetch("/openapi.json")
  .then((response) => {
    if (!response.ok) throw new Error("/openapi.json answered " + response.status);
    return response.json();
  })
  .then(render)
  .catch((error) => {
    document.getElementById("operations").replaceChildren(el("p", {}, "Could not load the document: " + error.message));
  });
