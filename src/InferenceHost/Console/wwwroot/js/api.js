// Talking to the server: every request carries the tab's API key (if any) as a Bearer header, and every
// failure becomes an ApiError carrying the server's own message (OpenAI-shaped {"error": {"message"}}).

const KEY = "inferencehost.apiKey";

export function apiKey() { return sessionStorage.getItem(KEY) || ""; }
export function setApiKey(key) { key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY); }

export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

export function headers(json) {
  const h = {};
  if (json) h["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

/** The server's message for a failed response, as the server wrote it. */
export async function errorOf(response) {
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON: show the text */ }
  const message = body?.error?.message ?? body?.detail ?? body?.title ?? (text || response.statusText);
  return new ApiError(response.status, `${response.status}: ${message}`, body);
}

export async function request(method, path, body, signal) {
  let response;
  try {
    response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "the server cannot be reached (" + e.message + ")");
  }
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

export const get = (path, signal) => request("GET", path, undefined, signal);
export const post = (path, body, signal) => request("POST", path, body, signal);
export const del = (path) => request("DELETE", path);

/** Small DOM builder: el("td", {class: "num"}, "text", child). Text is always set as text, never parsed as HTML. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colspan: columns }, emptyText))]));
}

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + " " + units[i];
}

export function num(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  return Number(x).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export const ms = (x) => (x === null || x === undefined ? "—" : num(x, x < 10 ? 2 : x < 100 ? 1 : 0) + " ms");

export function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString("en-GB", { hour12: false });
}

/** Runs fn now and every `ms` while `active()` holds and the tab is visible; a failure is shown by `onError`, and polling goes on. */
export function poll(fn, every, active, onError) {
  let timer = null;
  let busy = false;
  const tick = async () => {
    if (!active() || busy || document.hidden) return; // a background tab costs the server nothing
    busy = true;
    try { await fn(); onError(null); } catch (e) { onError(e); } finally { busy = false; }
  };
  return {
    start() { if (!timer) { tick(); timer = setInterval(tick, every); } },
    stop() { clearInterval(timer); timer = null; },
    now: tick,
  };
}
