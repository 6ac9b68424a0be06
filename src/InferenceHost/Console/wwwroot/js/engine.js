// Engine: GET /v1/engine every second: LoRA mode (configured, effective, why it last switched), the slot
// table, queue and batch, KV-cache and slot memory; queue depth and running batch kept here for a chart.
import { get, el, fill, bytes, num, time, poll } from "./api.js";
import { lineChart } from "./charts.js";

const $ = (id) => document.getElementById(id);
const HISTORY = 120;

function tile(label, value, sub) {
  return el("div", { class: "tile", "data-tile": label }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), sub ? el("div", { class: "sub" }, sub) : null);
}

export function engineView({ onEngine, onError }) {
  let visible = false;
  const history = [];   // {t, queue, running, batch}, one per poll

  function render(e) {
    const m = e.lora_mode;
    const last = m.switches.length ? m.switches[m.switches.length - 1] : null;
    const hitRate = e.slot_hits_total + e.slot_misses_total > 0 ? (100 * e.slot_hits_total) / (e.slot_hits_total + e.slot_misses_total) : null;
    $("engine-tiles").replaceChildren(
      tile("LoRA mode", m.effective, `configured: ${m.configured}${m.merged_key ? ` · merged: ${m.merged_key}` : ""}`),
      tile("Last switch", last ? `${last.from} → ${last.to}` : "none", last ? `${time(last.at)} · ${last.reason}` : "no mode switch yet"),
      tile("Queue depth", e.queue_depth, `of at most ${e.max_queued_requests}`),
      tile("Running batch", e.running, `rows: ${e.max_batch_size} · last step ${e.last_batch_size}`),
      tile("KV cache", bytes(e.kv_cache_bytes), `${e.max_batch_size} rows × ${e.max_sequence_length} positions`),
      tile("LoRA slot memory", bytes(e.slot_memory_bytes.total), `${e.slots.length} slots × ${bytes(e.slot_memory_bytes.per_slot)}`),
      tile("Slots in use", e.slots.filter((s) => s.adapter).length + " / " + e.slots.length, hitRate === null ? "no lookups yet" : `hit rate ${num(hitRate, 1)}%`),
      tile("Merged switches", m.merged_switches_total, `${num(m.merged_switch_seconds_total * 1000, 1)} ms in total`),
      tile("Steps", e.steps_total.toLocaleString("en-US"), `${e.generated_tokens_total.toLocaleString("en-US")} tokens generated`));

    fill($("slots-table").tBodies[0], e.slots.map((s) => el("tr", { "data-slot": s.index },
      el("td", { class: "num" }, s.index),
      el("td", {}, s.adapter ?? el("span", { class: "muted" }, "free")),
      el("td", { class: "num" }, s.pins),
      el("td", {}, s.unloading ? el("span", { class: "tag warn" }, "unloading") : s.adapter ? el("span", { class: "tag ok" }, s.pins ? "in use" : "resident") : ""))), 4, "no LoRA slots");

    fill($("switches-table").tBodies[0], [...m.switches].reverse().slice(0, 20).map((s) => el("tr", {},
      el("td", {}, time(s.at)), el("td", {}, s.from), el("td", {}, s.to),
      el("td", { class: "num" }, num(s.duration_ms, 1) + " ms"), el("td", {}, s.reason))), 5,
      m.configured === "auto" ? "no switch yet: auto mode switches when one LoRA combination dominates the traffic" : `no switch: the mode is fixed (${m.configured})`);

    const p = m.auto_policy;
    $("auto-policy").textContent = m.configured === "auto"
      ? `auto: merged at ≥ ${num(100 * p.enter_merged_share, 0)}% share, back below ${num(100 * p.exit_merged_share, 0)}%, window ${p.window}, dwell ${p.min_dwell_seconds}s`
      : "";
  }

  function chart() {
    const times = history.map((h) => h.t);
    lineChart($("engine-chart"), times, [
      { label: "running", values: history.map((h) => h.running) },
      { label: "queue depth", values: history.map((h) => h.queue) },
      { label: "last step batch", values: history.map((h) => h.batch), dash: true },
    ], 1000);
  }

  async function refresh() {
    const e = await get("/v1/engine");
    onEngine(e);
    history.push({ t: Date.now(), queue: e.queue_depth, running: e.running, batch: e.last_batch_size });
    if (history.length > HISTORY) history.shift();
    if (visible) { render(e); chart(); $("engine-updated").textContent = "updated " + time(new Date().toISOString()); }
  }

  // The history keeps filling while another view is shown, so the chart has data when one comes back.
  const poller = poll(refresh, 1000, () => true, (e) => visible && onError(e));
  poller.start();
  return {
    show() { visible = true; poller.now(); },
    hide() { visible = false; },
  };
}
