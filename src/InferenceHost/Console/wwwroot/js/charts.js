// A small line chart on a canvas: time on x, one line per series, gaps where a value is null, a legend.
// The canvas keeps what it drew in data attributes (points, sum, updates) so tests can see it change.

export const PALETTE = ["#2f6fde", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#0b7285", "#5c940d", "#862e9c", "#495057"];

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 4, 6, 8, 10]) if (v <= m * p) return m * p;   // quarters of these read well
  return 10 * p;
}

function label(v) {
  if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k";
  return v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(v >= 1 ? 1 : 2);
}

/**
 * times: x values (Unix ms); series: [{label, color, values: [number|null], dash}]; stepMs: bucket width.
 */
export function lineChart(canvas, times, series, stepMs) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 400;
  const height = Number(canvas.getAttribute("height")) || 160;
  if (canvas.width !== Math.round(width * dpr)) { canvas.width = Math.round(width * dpr); canvas.style.height = height + "px"; }
  canvas.height = Math.round(height * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);

  const legendH = series.length > 1 ? 18 : 0;
  const pad = { l: 42, r: 10, t: 8 + legendH, b: 20 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const all = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const top = niceMax(Math.max(0, ...all));
  const x0 = times.length ? times[0] : 0;
  const span = times.length ? times[times.length - 1] + stepMs - x0 : 1;
  const X = (t) => pad.l + ((t + stepMs / 2 - x0) / span) * w;
  const Y = (v) => pad.t + h - (v / top) * h;

  g.font = "11px system-ui, sans-serif";
  g.strokeStyle = "#eceef1";
  g.fillStyle = "#6a737d";
  g.lineWidth = 1;
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    const y = Math.round(Y(v)) + 0.5;
    g.beginPath(); g.moveTo(pad.l, y); g.lineTo(pad.l + w, y); g.stroke();
    g.fillText(label(v), pad.l - 6, y);
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  const minutes = span / 60000;
  for (let i = 0; i <= 4; i++) {
    const ago = minutes * (1 - i / 4);
    const text = ago === 0 ? "now" : minutes <= 2 ? `-${Math.round(ago * 60)}s` : `-${ago.toFixed(ago < 10 ? 1 : 0).replace(/\.0$/, "")}m`;
    g.fillText(text, pad.l + (w * i) / 4, pad.t + h + 5);
  }

  let points = 0;
  series.forEach((s, si) => {
    g.strokeStyle = s.color || PALETTE[si % PALETTE.length];
    g.fillStyle = g.strokeStyle;
    g.lineWidth = s.width || 1.8;
    g.setLineDash(s.dash ? [4, 3] : []);
    g.beginPath();
    let open = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { open = false; return; }
      points++;
      const x = X(times[i]);
      const y = Y(v);
      if (open) g.lineTo(x, y); else g.moveTo(x, y);
      open = true;
    });
    g.stroke();
    s.values.forEach((v, i) => {   // dots, so a lone point between gaps is visible
      if (v === null || v === undefined) return;
      const prev = s.values[i - 1], next = s.values[i + 1];
      if ((prev === null || prev === undefined) && (next === null || next === undefined)) {
        g.beginPath(); g.arc(X(times[i]), Y(v), 2.2, 0, Math.PI * 2); g.fill();
      }
    });
  });
  g.setLineDash([]);

  if (legendH) {
    g.textAlign = "left";
    g.textBaseline = "middle";
    let x = pad.l;
    series.forEach((s, si) => {
      g.fillStyle = s.color || PALETTE[si % PALETTE.length];
      g.fillRect(x, 7, 10, 3);
      g.fillStyle = "#3b434b";
      g.fillText(s.label, x + 14, 9);
      x += 24 + g.measureText(s.label).width;
    });
  }

  const first = series[0]?.values ?? [];
  canvas.dataset.points = String(points);
  canvas.dataset.sum = String(first.reduce((a, v) => a + (v || 0), 0));
  canvas.dataset.updates = String(Number(canvas.dataset.updates || 0) + 1);
}
