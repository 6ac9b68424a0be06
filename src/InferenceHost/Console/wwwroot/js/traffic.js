// Traffic: GET /v1/traffic (the server's rolling window) every second: request rate, tokens/s, TTFT and
// time-per-output-token percentiles, in total and per adapter combination, as a table and four charts.
import { get, el, fill, num, ms, time, poll } from "./api.js";
import { lineChart, PALETTE } from "./charts.js";

const $ = (id) => document.getElementById(id);

export function trafficView({ onError }) {
  let visible = false;
  let last = null;

  function row(name, g) {
    return el("tr", { "data-group": name, class: name === "total" ? "base" : "" },
      el("td", {}, name === "total" ? el("strong", {}, "all traffic") : name),
      el("td", { class: "num", "data-field": "requests" }, g.requests),
      el("td", { class: "num" }, num(g.requests_per_second, 2)),
      el("td", { class: "num" }, num(g.tokens_per_second, 1)),
      el("td", { class: "num" }, ms(g.ttft_ms?.p50)), el("td", { class: "num" }, ms(g.ttft_ms?.p90)), el("td", { class: "num" }, ms(g.ttft_ms?.p99)),
      el("td", { class: "num" }, ms(g.tpot_ms?.p50)), el("td", { class: "num" }, ms(g.tpot_ms?.p90)), el("td", { class: "num" }, ms(g.tpot_ms?.p99)),
      el("td", { class: "num" }, ms(g.e2e_ms?.p50)));
  }

  function render(r) {
    const names = Object.keys(r.adapters);
    fill($("traffic-table").tBodies[0], [row("total", r.total), ...names.map((n) => row(n, r.adapters[n]))], 11, "");
    const pct = $("traffic-percentile").value;
    document.querySelectorAll("#view-traffic .pct").forEach((s) => (s.textContent = pct));
    const groups = [["all traffic", r.total, "#1f2328"], ...names.map((n, i) => [n, r.adapters[n], PALETTE[i % PALETTE.length]])];
    const lines = (pick) => groups.map(([label, g, color], i) => ({ label, color, values: pick(g.series), width: i === 0 ? 2.2 : 1.5, dash: i === 0 && groups.length > 1 }));
    const step = r.step_seconds * 1000;
    lineChart($("chart-rate"), r.buckets, lines((s) => s.requests_per_second), step);
    lineChart($("chart-tokens"), r.buckets, lines((s) => s.tokens_per_second), step);
    lineChart($("chart-ttft"), r.buckets, lines((s) => s[`ttft_${pct}_ms`]), step);
    lineChart($("chart-tpot"), r.buckets, lines((s) => s[`tpot_${pct}_ms`]), step);
    $("traffic-updated").textContent = `${r.total.requests} requests in the window · updated ${time(new Date(r.now).toISOString())}`;
  }

  async function refresh() {
    const [w, s] = $("traffic-window").value.split(":");
    last = await get(`/v1/traffic?window=${w}&step=${s}`);
    render(last);
  }

  $("traffic-window").addEventListener("change", () => poller.now());
  $("traffic-percentile").addEventListener("change", () => last && render(last));
  window.addEventListener("resize", () => visible && last && render(last));
  const poller = poll(refresh, 1000, () => visible, onError);
  return {
    show() { visible = true; poller.start(); },
    hide() { visible = false; poller.stop(); },
  };
}
