// The browsable API's only script. The key lives in this tab's session storage and goes out
// only as the Bearer header of same-origin requests; pages are fetched with it and swapped in.
"use strict";

const KEY = "clientstor.api-key";

function key() {
  return sessionStorage.getItem(KEY) || "";
}

function headers(accept) {
  const h = { Accept: accept };
  if (key()) h.Authorization = "Bearer " + key();
  return h;
}

function isApiPage(url) {
  return (
    url.origin === location.origin &&
    url.pathname.startsWith("/api/") &&
    !url.pathname.startsWith("/api/v1/docs") &&
    !url.pathname.endsWith("openapi.json")
  );
}

function showKeyState() {
  const status = document.getElementById("key-status");
  const forget = document.getElementById("forget-key");
  if (!status) return;
  status.textContent = key() ? "key in use for this tab" : "no key";
  if (forget) forget.hidden = !key();
  const hint = document.getElementById("key-hint");
  if (hint) hint.hidden = Boolean(key());
}

// Fetches `href` as a page with the key and puts it in place of the current one.
async function load(href, push, flash) {
  const url = new URL(href, location.href);
  const response = await fetch(url, { headers: headers("text/html"), credentials: "omit" });
  const html = await response.text();
  const next = new DOMParser().parseFromString(html, "text/html");
  document.title = next.title;
  document.body.replaceWith(document.adoptNode(next.body));
  if (push) history.pushState({}, "", url);
  showKeyState();
  if (flash) showFlash(flash);
}

function showFlash(flash) {
  const main = document.getElementById("content");
  if (!main) return;
  const earlier = document.getElementById("flash");
  if (earlier) earlier.remove();
  const box = document.createElement("section");
  box.className = "flash " + (flash.ok ? "ok" : "bad");
  box.id = "flash";
  const title = document.createElement("p");
  title.textContent = flash.title;
  const pre = document.createElement("pre");
  pre.textContent = flash.body;
  box.append(title, pre);
  main.prepend(box);
}

// A field's value as JSON, or undefined when left empty.
function fieldValue(div) {
  const control = div.querySelector("input, select, textarea");
  const text = control.value.trim();
  const type = div.dataset.type;
  if (text === "") return undefined;
  switch (type) {
    case "integer":
      return Number.parseInt(text, 10);
    case "number":
      return Number(text);
    case "boolean":
      return text === "true";
    case "list":
      return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    case "intlist":
      return text.split(",").map((s) => Number.parseInt(s.trim(), 10)).filter((n) => !Number.isNaN(n));
    case "json":
      return JSON.parse(text);
    default:
      return control.value;
  }
}

// `/api/assets/4` and `/api/v1/assets/4/` are one page.
function canonical(path) {
  const versioned = path.startsWith("/api/v1/") ? path : path.replace(/^\/api\//, "/api/v1/");
  return versioned.endsWith("/") ? versioned : versioned + "/";
}

function formBody(form) {
  const whole = form.querySelector(".field[data-body=json] textarea");
  if (whole) return JSON.parse(whole.value);
  const body = {};
  const changedOnly = form.dataset.changedOnly === "true";
  for (const div of form.querySelectorAll(".field[data-field]")) {
    const control = div.querySelector("input, select, textarea");
    if (changedOnly && control.value === div.dataset.initial) continue;
    let value = fieldValue(div);
    if (value === undefined) {
      if (!changedOnly) continue;
      // A cleared field: empty where its type has an empty value, else null (which the API
      // refuses with the field's name when the field cannot be empty).
      const type = div.dataset.type;
      if (div.dataset.nullable === "true") value = null;
      else if (type === "string") value = "";
      else if (type === "list" || type === "intlist") value = [];
      else value = null;
    }
    body[div.dataset.field] = value;
  }
  return body;
}

async function send(method, url, body, resultBox) {
  const init = { method, headers: headers("application/json"), credentials: "omit" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch (_) {
    // Not JSON (a 204): shown as is.
  }
  const flash = {
    ok: response.ok,
    title: method + " " + url + " → HTTP " + response.status,
    body: shown,
  };
  if (!response.ok) {
    if (resultBox) {
      resultBox.className = "result bad";
      resultBox.textContent = flash.title + "\n" + shown;
    } else {
      showFlash(flash);
    }
    return;
  }
  // A deleted record leaves its page: go up to the list.
  if (method === "DELETE" && canonical(new URL(url, location.href).pathname) === canonical(location.pathname)) {
    const up = canonical(location.pathname).replace(/[^/]+\/$/, "");
    await load(up, true, flash);
    return;
  }
  // The page again, without revealing a password once more (each reveal is logged).
  const again = new URL(location.href);
  if (again.searchParams.has("reveal")) {
    again.searchParams.delete("reveal");
    history.replaceState({}, "", again);
  }
  await load(again.href, false, flash);
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.id === "key-form") {
    event.preventDefault();
    const input = document.getElementById("api-key");
    const value = input.value.trim();
    input.value = "";
    if (value) sessionStorage.setItem(KEY, value);
    await load(location.href, false);
    return;
  }
  const role = form.dataset.role;
  if (role === "filters") {
    event.preventDefault();
    const url = new URL(location.pathname, location.href);
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim() !== "") url.searchParams.set(name, value);
    }
    await load(url.href, true);
    return;
  }
  if (role === "send" || role === "raw") {
    event.preventDefault();
    const resultBox = form.querySelector(".result");
    try {
      if (role === "send") {
        await send(form.dataset.method, form.dataset.url, formBody(form), resultBox);
      } else {
        const method = form.querySelector("[name=method]").value;
        const text = form.querySelector("[name=body]").value;
        await send(method, form.dataset.url, method === "DELETE" ? undefined : text, resultBox);
      }
    } catch (error) {
      resultBox.className = "result bad";
      resultBox.textContent = String(error);
    }
  }
});

document.addEventListener("click", async (event) => {
  const target = event.target;
  if (target.id === "forget-key") {
    sessionStorage.removeItem(KEY);
    location.reload();
    return;
  }
  const button = target.closest("button[data-role=action]");
  if (button) {
    if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
    button.disabled = true;
    try {
      await send(button.dataset.method, button.dataset.url, undefined, null);
    } catch (error) {
      showFlash({ ok: false, title: button.dataset.method + " " + button.dataset.url, body: String(error) });
    } finally {
      // Still on the page after a refusal: the button can be pressed again.
      if (button.isConnected) button.disabled = false;
    }
    return;
  }
  const link = target.closest("a[href]");
  if (!link || link.hasAttribute("data-plain") || event.ctrlKey || event.metaKey) return;
  const url = new URL(link.href, location.href);
  if (!isApiPage(url) || !key()) return;
  event.preventDefault();
  await load(url.href, true);
});

window.addEventListener("popstate", () => {
  if (key()) load(location.href, false);
});

document.addEventListener("DOMContentLoaded", () => {
  showKeyState();
  // The first load of a page has no key (a browser cannot send it): fetch it with the key.
  if (document.body.dataset.page === "shell" && key()) load(location.href, false);
});
