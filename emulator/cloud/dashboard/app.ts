// Dashboard script (browser): devices, latest values, a uPlot chart and the message log, kept
// live by the platform's server-sent events.
import uPlot from "uplot";
import type { MessageRecord as Message, Reading } from "../db";

interface DeviceView {
  productKey: string;
  deviceName: string;
  lastSeen: number | null;
  online: boolean;
  latest: Reading | null;
  messageCount: number;
}

const MAX_LOG_ROWS = 50;
const MAX_POINTS = 2000;
const $ = (id: string) => document.getElementById(id)!;
const devices = new Map<string, DeviceView>();
let selected: string | null = null;
let readings: Reading[] = [];
let chart: uPlot | null = null;
let clockOffsetMs = 0; // platform time minus browser time (the platform may run on emulated time)

const keyOf = (d: { productKey: string; deviceName: string }) => `${d.productKey}/${d.deviceName}`;
const fmtTime = (ms: number) => new Date(ms).toLocaleString();
const fmtNum = (v: number | null | undefined, unit: string) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ${unit}`);

function ago(ms: number | null): string {
  if (ms === null) return "never";
  const s = Math.max(0, Math.round((Date.now() + clockOffsetMs - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function el(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderDevices(): void {
  const box = $("devices");
  if (devices.size === 0) return;
  box.textContent = "";
  for (const [key, d] of devices) {
    const card = el("div", "device" + (key === selected ? " selected" : ""));
    card.dataset.key = key;
    const name = el("div", "name");
    name.append(el("span", "dot" + (d.online ? " online" : "")), d.deviceName);
    card.append(name, el("div", "pk", d.productKey));
    const row1 = el("div", "row");
    row1.append(el("span", "t", fmtNum(d.latest?.temperature, "°C")), el("span", "h", fmtNum(d.latest?.humidity, "%")));
    const row2 = el("div", "row");
    row2.append(el("span", "state", d.online ? "online" : "offline"), el("span", "seen", ago(d.lastSeen)));
    card.append(row1, row2);
    card.onclick = () => select(key);
    box.append(card);
  }
}

function renderValues(): void {
  const d = selected ? devices.get(selected) : undefined;
  if (!d) return;
  $("detail-title").textContent = `${d.deviceName} (${d.productKey})`;
  $("temperature").textContent = fmtNum(d.latest?.temperature, "°C");
  $("humidity").textContent = fmtNum(d.latest?.humidity, "%");
  $("lastseen").textContent = d.lastSeen === null ? "never" : `${ago(d.lastSeen)} · ${fmtTime(d.lastSeen)}`;
}

function logRow(m: Message): HTMLElement {
  const tr = el("tr");
  tr.append(el("td", "time", fmtTime(m.time)), el("td", "topic", m.topic));
  tr.append(el("td", "code " + (m.code === 0 ? "ok" : "bad"), String(m.code)));
  tr.append(el("td", "id", m.messageId ?? ""));
  const checks = m.code !== 0 ? m.checks.join("; ") || "refused" : m.checks.length ? m.checks.join("; ") : `${m.kind}: ok`;
  const td = el("td", "checks " + (m.code === 0 && m.checks.length === 0 ? "ok" : "bad"), checks);
  td.title = m.payload;
  tr.append(td);
  return tr;
}

function chartData(): uPlot.AlignedData {
  return [readings.map((r) => r.time / 1000), readings.map((r) => r.temperature), readings.map((r) => r.humidity)];
}

function renderChart(): void {
  const box = $("chart");
  box.dataset.points = String(readings.length);
  if (chart) {
    chart.setData(chartData());
    return;
  }
  box.textContent = "";
  const width = Math.max(200, box.clientWidth - 8);
  chart = new uPlot(
    {
      width,
      height: width < 500 ? 200 : 280,
      series: [
        {},
        { label: "Temperature °C", stroke: "#d9480f", width: 2, scale: "C", spanGaps: true, points: { size: 5 } },
        { label: "Humidity %", stroke: "#2563eb", width: 2, scale: "%", spanGaps: true, points: { size: 5 } },
      ],
      scales: { "%": { range: [0, 100] } },
      axes: [{}, { scale: "C", label: "°C", size: 46 }, { scale: "%", side: 1, label: "%", size: 46, grid: { show: false } }],
    },
    chartData(),
    box,
  );
}

async function select(key: string): Promise<void> {
  selected = key;
  location.hash = encodeURIComponent(key);
  const d = devices.get(key)!;
  $("detail").hidden = false;
  renderDevices();
  renderValues();
  const res = await fetch(`/api/devices/${encodeURIComponent(d.productKey)}/${encodeURIComponent(d.deviceName)}?limit=${MAX_POINTS}`);
  const data = (await res.json()) as { readings: Reading[]; messages: Message[] };
  if (selected !== key) return;
  readings = data.readings;
  renderChart();
  const log = $("log");
  log.textContent = "";
  for (const m of data.messages) log.append(logRow(m));
}

async function loadState(): Promise<void> {
  const res = await fetch("/api/state");
  const state = (await res.json()) as { serverNow: number; devices: DeviceView[] };
  clockOffsetMs = state.serverNow - Date.now();
  for (const d of state.devices) devices.set(keyOf(d), d);
  renderDevices();
  if (!selected && devices.size > 0) {
    const wanted = decodeURIComponent(location.hash.slice(1));
    await select(devices.has(wanted) ? wanted : [...devices.keys()][0]);
  } else renderValues();
}

function onMessage(ev: { productKey: string; deviceName: string; message: Message; readings: Reading[] }): void {
  const key = keyOf(ev);
  const d = devices.get(key);
  if (d) {
    d.messageCount++;
    for (const r of ev.readings) {
      const latest = d.latest ?? { time: r.time, temperature: null, humidity: null };
      if (r.time >= latest.time) {
        latest.time = r.time;
        if (r.temperature !== null) latest.temperature = r.temperature;
        if (r.humidity !== null) latest.humidity = r.humidity;
      }
      d.latest = latest;
    }
  }
  if (key === selected) {
    if (ev.readings.length) {
      readings = readings.concat(ev.readings).sort((a, b) => a.time - b.time).slice(-MAX_POINTS);
      renderChart();
    }
    const log = $("log");
    log.prepend(logRow(ev.message));
    while (log.children.length > MAX_LOG_ROWS) log.lastElementChild!.remove();
  }
  renderDevices();
  renderValues();
}

function connect(): void {
  const live = $("live");
  const es = new EventSource("/api/events");
  es.onopen = () => {
    live.textContent = "live";
    live.className = "live on";
  };
  es.onerror = () => {
    live.textContent = "reconnecting";
    live.className = "live off";
  };
  es.addEventListener("device", (e) => {
    const d = JSON.parse((e as MessageEvent).data) as DeviceView;
    const isNew = !devices.has(keyOf(d));
    devices.set(keyOf(d), d);
    renderDevices();
    if (isNew && !selected) void select(keyOf(d));
    else renderValues();
  });
  es.addEventListener("message", (e) => onMessage(JSON.parse((e as MessageEvent).data)));
}

window.addEventListener("resize", () => {
  if (!chart) return;
  const width = Math.max(200, $("chart").clientWidth - 8);
  chart.setSize({ width, height: width < 500 ? 200 : 280 });
});
// Relative times and online state age even when nothing arrives.
setInterval(() => void loadState().catch(() => {}), 30000);
setInterval(() => {
  renderDevices();
  renderValues();
}, 5000);
connect();
void loadState();
