// Compare: one prompt sent at once to several columns (the base, adapters, LoRA + soft-prompt
// combinations through the `adapters` extension field), each streamed from POST /v1/completions with
// stream: true into its own column, with time to first token, total time and decode tokens/s.
import { headers, errorOf, el, num } from "./api.js";

const $ = (id) => document.getElementById(id);

function label(spec) { return spec.length ? spec.map((a) => (a.weight !== undefined && a.weight !== 1 ? `${a.name}×${a.weight}` : a.name)).join(" + ") : "base"; }

/** Reads an SSE body: calls onEvent(json) for each `data:` payload until [DONE]. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        onEvent(JSON.parse(data));
      }
    }
  }
}

export function compareView() {
  let base = null;
  let adapters = [];
  let specs = null;   // [[{name, weight}]]; null until the first model list arrives
  let running = null;

  function usable() { return adapters.filter((a) => !a.error); }

  function renderSpecs() {
    const box = $("compare-specs");
    box.replaceChildren(...specs.map((spec, i) => el("div", { class: "spec", "data-spec": i },
      el("span", { class: "title" }, `Column ${i + 1}`),
      usable().length === 0 ? el("span", { class: "muted" }, "base only: no adapters loaded") : null,
      usable().map((a) => {
        const chosen = spec.find((s) => s.name === a.id);
        const box = el("input", { type: "checkbox", "data-adapter": a.id, checked: !!chosen, onchange: (ev) => {
          specs[i] = ev.target.checked ? [...spec, a.type === "lora" ? { name: a.id, weight: 1 } : { name: a.id }] : spec.filter((s) => s.name !== a.id);
          renderSpecs();
        } });
        const weight = a.type === "lora" && chosen ? el("input", { type: "number", step: "0.1", min: "-100", max: "100", value: chosen.weight, title: "LoRA weight",
          onchange: (ev) => { chosen.weight = Number(ev.target.value); } }) : null;
        return el("label", { title: a.type === "lora" ? "LoRA" : "soft prompt" }, box, a.id, weight);
      }),
      el("span", { class: "muted" }, "→ " + label(spec)),
      specs.length > 1 ? el("button", { type: "button", class: "ghost remove", onclick: () => { specs.splice(i, 1); renderSpecs(); } }, "Remove") : null)));
  }

  function column(spec) {
    const output = el("div", { class: "output" });
    const cells = { ttft: el("b", {}, "—"), total: el("b", {}, "—"), tokens: el("b", {}, "0"), rate: el("b", {}, "—") };
    const state = el("span", { class: "tag" }, "waiting");
    const node = el("div", { class: "column", "data-column": label(spec) },
      el("header", {}, el("span", { class: "name" }, label(spec)), state), output,
      el("div", { class: "stats" },
        el("div", {}, "first token", cells.ttft), el("div", {}, "total", cells.total),
        el("div", {}, "tokens", cells.tokens), el("div", {}, "decode tok/s", cells.rate)));
    return { node, output, cells, state };
  }

  async function stream(spec, col, body, signal) {
    const start = performance.now();
    let first = null;
    let tokens = 0;
    let usage = null;
    const update = () => {
      const now = performance.now();
      col.cells.ttft.textContent = first === null ? "—" : `${num(first - start, 0)} ms`;
      col.cells.total.textContent = `${num(now - start, 0)} ms`;
      col.cells.tokens.textContent = String(usage?.completion_tokens ?? tokens);
      const n = (usage?.completion_tokens ?? tokens) - 1;
      col.cells.rate.textContent = first !== null && n > 0 && now > first ? num((1000 * n) / (now - first), 1) : "—";
    };
    col.state.textContent = "streaming";
    col.state.className = "tag warn";
    try {
      const response = await fetch("/v1/completions", { method: "POST", headers: headers(true), body: JSON.stringify({ ...body, adapters: spec }), signal });
      if (!response.ok) throw await errorOf(response);
      await readEvents(response, (chunk) => {
        if (chunk.error) throw new Error(chunk.error.message);
        if (chunk.usage) usage = chunk.usage;
        for (const c of chunk.choices || []) {
          if (c.text) {
            if (first === null) first = performance.now();
            tokens++;
            col.output.append(c.text);
          }
        }
        update();
      });
      update();
      col.state.textContent = "done";
      col.state.className = "tag ok";
    } catch (e) {
      update();
      const aborted = e.name === "AbortError";
      col.state.textContent = aborted ? "stopped" : "failed";
      col.state.className = aborted ? "tag" : "tag bad";
      if (!aborted) { col.node.classList.add("failed"); col.output.append((col.output.textContent ? "\n" : "") + e.message); }
    }
  }

  $("compare-add").addEventListener("click", () => { specs.push([]); renderSpecs(); });
  $("compare-stop").addEventListener("click", () => running?.abort());
  $("compare-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!base) return;
    running?.abort();
    const controller = new AbortController();
    running = controller;
    const body = {
      model: base.id,
      prompt: $("compare-prompt").value,
      max_tokens: Number($("compare-max").value),
      temperature: Number($("compare-temp").value),
      stream: true,
      stream_options: { include_usage: true },
    };
    if ($("compare-ignore-eos").checked) body.ignore_eos = true;
    const cols = specs.map((spec) => column(spec));
    $("compare-columns").replaceChildren(...cols.map((c) => c.node));
    $("compare-run").disabled = true;
    $("compare-stop").disabled = false;
    await Promise.all(specs.map((spec, i) => stream(spec, cols[i], body, controller.signal)));
    if (running === controller) { running = null; $("compare-run").disabled = false; $("compare-stop").disabled = true; }
  });

  return {
    /** New model list: keep the columns' choices, drop adapters that are gone. */
    models(b, list) {
      base = b;
      adapters = list;
      const names = new Set(usable().map((a) => a.id));
      const first = specs === null;
      if (first) specs = [[], ...usable().slice(0, 1).map((a) => [a.type === "lora" ? { name: a.id, weight: 1 } : { name: a.id }])];
      const before = JSON.stringify(specs);
      specs = specs.map((s) => s.filter((a) => names.has(a.name)));
      const row = $("compare-specs").querySelector(".spec");
      const shown = row ? [...row.querySelectorAll("input[data-adapter]")].map((i) => i.dataset.adapter).join(",") : "";
      if (first || before !== JSON.stringify(specs) || shown !== [...names].join(",")) renderSpecs();
    },
    show() {},
    hide() {},
  };
}
