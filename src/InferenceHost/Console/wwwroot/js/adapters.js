// Adapters: every adapter from GET /v1/models, its device slot from GET /v1/engine, its evaluation card;
// load (POST /v1/adapters) and unload (DELETE /v1/adapters/{name}) with the server's messages as they are.
import { get, post, del, el, fill, bytes, num, poll } from "./api.js";

const $ = (id) => document.getElementById(id);

function typeTag(a) {
  if (a.type === "lora") return el("span", { class: "tag lora" }, "LoRA");
  if (a.type === "soft_prompt") return el("span", { class: "tag soft" }, "soft prompt");
  return el("span", { class: "tag" }, "unknown");
}

function scoreText(metric, v) {
  if (v === null || v === undefined) return "—";
  return /^bleu$/i.test(metric) ? num(v, 1) : num(v, 3);
}

/** The evaluation card: metric, score against the base, and a table of every score when there is one. */
export function evaluationCell(a) {
  if (a.evaluation_error) return el("td", { class: "eval" }, el("span", { class: "err", title: "eval_results.json" }, a.evaluation_error));
  const e = a.evaluation;
  if (!e) return el("td", { class: "eval muted" }, "—");
  const parts = [el("div", {}, el("span", { class: "tag" }, e.task), " ", el("span", { class: "muted" }, e.metric))];
  const line = [el("span", { class: "score" }, scoreText(e.metric, e.score))];
  if (e.base_score !== null && e.base_score !== undefined) {
    const delta = e.score - e.base_score;
    const rel = e.base_score > 0 ? ` (${delta >= 0 ? "+" : ""}${num((100 * delta) / e.base_score, 0)}%)` : "";
    line.push(el("span", { class: "muted" }, " vs base " + scoreText(e.metric, e.base_score)));
    line.push(el("span", { class: delta >= 0 ? "up" : "down" }, rel));
  }
  parts.push(el("div", {}, line));
  const names = Object.keys(e.scores || {});
  const rows = names.map((m) => el("tr", {}, el("td", {}, m), el("td", {}, scoreText(m, e.scores[m])), el("td", {}, scoreText(m, e.base_scores?.[m]))));
  const meta = [e.data, e.examples ? `${e.examples} examples` : null, e.template, e.date ? String(e.date).slice(0, 10) : null].filter(Boolean).join(" · ");
  if (rows.length || meta) {
    parts.push(el("details", {}, el("summary", {}, "details"),
      meta ? el("div", { class: "muted" }, meta) : null,
      rows.length ? el("table", {}, el("tr", {}, el("th", {}, "metric"), el("th", {}, "adapter"), el("th", {}, "base")), rows) : null));
  }
  return el("td", { class: "eval" }, parts);
}

export function adaptersView({ onModels, onError }) {
  let visible = false;

  function unloadButton(name) {
    const b = el("button", { type: "button", class: "danger", "data-unload": name }, "Unload");
    let timer = null;
    b.addEventListener("click", async () => {
      if (!b.classList.contains("armed")) {   // first click arms, second click unloads
        b.classList.add("armed"); b.textContent = "Confirm";
        timer = setTimeout(() => { b.classList.remove("armed"); b.textContent = "Unload"; }, 4000);
        return;
      }
      clearTimeout(timer);
      b.disabled = true;
      try {
        await del("/v1/adapters/" + encodeURIComponent(name));
        result(`unloaded '${name}'`, true);
      } catch (e) { result(e.message, false); }
      await refresh();
    });
    return b;
  }

  function row(a, slots) {
    const slot = slots.find((s) => s.adapter === a.id);
    const shape = a.type === "soft_prompt" ? `${a.virtual_tokens} tokens` : a.rank ?? "—";
    return el("tr", { "data-adapter": a.id },
      el("td", {}, el("strong", {}, a.id), el("div", { class: "targets", title: a.root }, a.root)),
      el("td", {}, a.error ? el("span", { class: "tag bad" }, "broken") : typeTag(a)),
      el("td", { class: "num" }, shape),
      el("td", { class: "targets" }, (a.targets || []).join(", ") || "—"),
      el("td", { class: "num" }, bytes(a.memory_bytes)),
      el("td", {}, a.error ? "—" : a.loaded ? el("span", { class: "tag ok" }, "in memory") : el("span", { class: "tag" }, "on disk")),
      el("td", { class: "slot" }, slot ? el("span", { class: "tag ok" }, `slot ${slot.index}${slot.pins ? ` · ${slot.pins} in use` : ""}`) : el("span", { class: "muted" }, "not resident")),
      evaluationCell(a),
      el("td", {}, a.error ? el("span", { class: "err" }, a.error) : el("span", { class: "tag ok" }, "ready")),
      el("td", {}, unloadButton(a.id)));
  }

  async function refresh() {
    const [models, engine] = await Promise.all([get("/v1/models"), get("/v1/engine").catch(() => ({ slots: [] }))]);
    const base = models.data.find((m) => m.parent === null);
    const adapters = models.data.filter((m) => m.parent !== null);
    onModels(base, adapters);
    const baseRow = el("tr", { class: "base" },
      el("td", {}, el("strong", {}, base.id), el("div", { class: "targets" }, base.root)),
      el("td", {}, el("span", { class: "tag" }, "base")), el("td", { class: "num" }, "—"),
      el("td", { class: "targets" }, `context ${base.max_model_len} tokens`), el("td", {}), el("td", {}), el("td", {}), el("td", {}), el("td", {}), el("td", {}));
    fill($("adapters-table").tBodies[0], [baseRow, ...adapters.map((a) => row(a, engine.slots || []))], 10, "");
    const broken = adapters.filter((a) => a.error).length;
    $("adapters-summary").textContent = `${adapters.length} adapter${adapters.length === 1 ? "" : "s"}` +
      (broken ? `, ${broken} broken` : "") + `, ${(engine.slots || []).filter((s) => s.adapter).length} resident on the device`;
  }

  function result(text, ok) {
    const r = $("load-result");
    r.className = "result " + (ok ? "ok" : "bad");
    r.textContent = text;
  }

  $("load-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("load-name").value.trim();
    const path = $("load-path").value.trim();
    $("load-button").disabled = true;
    result("loading…", true);
    try {
      const a = await post("/v1/adapters", { name, path });
      result(`loaded '${a.id}' (${a.type}${a.rank ? `, rank ${a.rank}` : ""})`, true);
      $("load-name").value = "";
    } catch (e) {
      result(e.message, false);
    } finally {
      $("load-button").disabled = false;
    }
    await refresh().catch(onError);
  });

  const poller = poll(refresh, 3000, () => visible, onError);
  return {
    refresh,
    show() { visible = true; poller.start(); },
    hide() { visible = false; poller.stop(); },
  };
}
