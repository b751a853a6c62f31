// Alink payload checks of the local IoT Platform: finds what the real thing-model check would
// reject, so it is recorded with the message. Payloads are never "fixed", only judged.
import type { Reading } from "./db";

/** The thing model of the product in the platform guide. */
export const THING_MODEL: { [identifier: string]: { type: "FLOAT"; min: number; max: number } } = {
  temperature: { type: "FLOAT", min: -50, max: 100 },
  humidity: { type: "FLOAT", min: 0, max: 100 },
};
const DAY_MS = 24 * 3600 * 1000;
const MAX_PROPERTIES = 200;

/** A JSON number with its source text: FLOAT values must be written with a decimal point. */
export class RawNumber {
  constructor(
    readonly raw: string,
    readonly value: number,
  ) {}
}

const MARK = "\u0000num:";

/** JSON.parse that turns every number into a RawNumber. Throws SyntaxError on malformed JSON. */
export function parseKeepingNumbers(text: string): unknown {
  JSON.parse(text); // the engine's own error message for malformed input
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      let j = i + 1;
      while (j < text.length && "0123456789eE+-.".includes(text[j])) j++;
      out += JSON.stringify(MARK + text.slice(i, j));
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out, (_key, v: unknown) =>
    typeof v === "string" && v.startsWith(MARK) ? new RawNumber(v.slice(MARK.length), Number(v.slice(MARK.length))) : v,
  );
}

export interface AlinkVerdict {
  kind: string;
  /** Problems found; empty when every check passed. */
  checks: string[];
  /** Property values that passed the thing-model checks, by time (what the console would chart). */
  readings: Reading[];
}

type Obj = { [k: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RawNumber);

/** Which check set applies to a topic that already belongs to device pk/dn. */
export function topicKind(topic: string, pk: string, dn: string): string {
  const sys = `/sys/${pk}/${dn}/thing/event/`;
  if (topic === sys + "property/post") return "property-post";
  if (topic === sys + "property/history/post") return "history-post";
  if (topic.startsWith(sys) && topic.endsWith("/post") && topic.split("/").length === 8) return "event-post";
  if (topic === `/ota/device/inform/${pk}/${dn}`) return "ota-inform";
  if (topic === `/ota/device/progress/${pk}/${dn}`) return "ota-progress";
  if (topic.startsWith(`/${pk}/${dn}/user/`)) return "user";
  return "other";
}

/** Judges one uplink. `nowMs` is platform time (message times may not be more than 24 h ahead). */
export function checkAlink(topic: string, payload: string, pk: string, dn: string, nowMs: number): AlinkVerdict {
  const kind = topicKind(topic, pk, dn);
  const checks: string[] = [];
  const byTime = new Map<number, Reading>();
  if (kind === "user") return { kind, checks, readings: [] }; // custom topics carry any bytes
  let msg: unknown;
  try {
    msg = parseKeepingNumbers(payload);
  } catch (e) {
    return { kind, checks: [`payload is not well-formed JSON: ${(e as Error).message}`], readings: [] };
  }
  if (!isObj(msg)) return { kind, checks: ["payload is not a JSON object"], readings: [] };

  const id = msg.id;
  if (typeof id !== "string" || !/^[0-9]{1,10}$/.test(id) || Number(id) > 4294967295) {
    checks.push('"id" must be a string of digits 0..4294967295');
  }
  if (msg.version !== undefined && msg.version !== "1.0") checks.push('"version" must be "1.0"');

  const checkTime = (where: string, t: unknown, required: boolean): number | undefined => {
    if (t === undefined) {
      if (required) checks.push(`${where}: "time" missing`);
      return undefined;
    }
    if (!(t instanceof RawNumber) || !Number.isInteger(t.value) || t.value < 0) {
      checks.push(`${where}: "time" must be epoch milliseconds`);
      return undefined;
    }
    if (t.value > nowMs + DAY_MS) {
      checks.push(`${where}: "time" ${t.raw} is more than 24 h in the future`);
      return undefined;
    }
    return t.value;
  };
  // One property value against the thing model; returns the number when it passes.
  const checkValue = (name: string, v: unknown): number | undefined => {
    const spec = Object.prototype.hasOwnProperty.call(THING_MODEL, name) ? THING_MODEL[name] : undefined;
    if (!spec) {
      checks.push(`property "${name}" is not in the thing model`);
      return undefined;
    }
    if (!(v instanceof RawNumber)) {
      checks.push(`${name}: ${spec.type} value expected, got ${JSON.stringify(v)}`);
      return undefined;
    }
    let ok = true;
    if (!v.raw.includes(".")) {
      checks.push(`${name}: ${spec.type} must be written with a decimal point, got ${v.raw}`);
      ok = false;
    }
    if (!(v.value >= spec.min && v.value <= spec.max)) {
      checks.push(`${name}: ${v.raw} outside ${spec.min}..${spec.max}`);
      ok = false;
    }
    return ok ? v.value : undefined;
  };
  const record = (name: string, value: number | undefined, time: number | undefined) => {
    if (value === undefined || time === undefined) return;
    const r = byTime.get(time) ?? { time, temperature: null, humidity: null };
    if (name === "temperature") r.temperature = value;
    if (name === "humidity") r.humidity = value;
    byTime.set(time, r);
  };
  const expectMethod = (method: string) => {
    if (msg.method !== method) checks.push(`"method" ${JSON.stringify(msg.method)} does not match the topic (expected "${method}")`);
  };

  if (kind === "property-post") {
    expectMethod("thing.event.property.post");
    const params = msg.params;
    if (!isObj(params) || Object.keys(params).length === 0) checks.push('"params" must be an object with at least one property');
    else {
      if (Object.keys(params).length > MAX_PROPERTIES) checks.push(`more than ${MAX_PROPERTIES} properties in one post`);
      for (const [name, p] of Object.entries(params)) {
        if (isObj(p)) record(name, checkValue(name, p.value), checkTime(name, p.time, false) ?? (p.time === undefined ? nowMs : undefined));
        else record(name, checkValue(name, p), nowMs);
      }
    }
  } else if (kind === "history-post") {
    expectMethod("thing.event.property.history.post");
    const params = msg.params;
    if (!Array.isArray(params) || params.length === 0) checks.push('"params" must be a non-empty array');
    else
      params.forEach((entry: unknown, i) => {
        const at = `params[${i}]`;
        if (!isObj(entry)) return void checks.push(`${at} must be an object`);
        const ident = entry.identity;
        if (!isObj(ident) || ident.productKey !== pk || ident.deviceName !== dn) {
          checks.push(`${at}.identity must be this device {"productKey":"${pk}","deviceName":"${dn}"}`);
        }
        if (entry.properties === undefined && entry.events === undefined) checks.push(`${at} has neither "properties" nor "events"`);
        for (const list of ["properties", "events"] as const) {
          const items = entry[list];
          if (items === undefined) continue;
          if (!Array.isArray(items)) {
            checks.push(`${at}.${list} must be an array`);
            continue;
          }
          items.forEach((item: unknown, j) => {
            const where = `${at}.${list}[${j}]`;
            if (!isObj(item)) return void checks.push(`${where} must be an object`);
            for (const [name, p] of Object.entries(item)) {
              if (!isObj(p)) {
                checks.push(`${where}.${name} must be {"value":..,"time":..}`);
                continue;
              }
              const time = checkTime(`${where}.${name}`, p.time, true);
              if (list === "properties") record(name, checkValue(name, p.value), time);
              else if (!isObj(p.value)) checks.push(`${where}.${name}.value must be an object`);
            }
          });
        }
      });
  } else if (kind === "event-post") {
    const eventId = topic.split("/")[6];
    expectMethod(`thing.event.${eventId}.post`);
    const params = msg.params;
    if (!isObj(params) || !isObj(params.value)) checks.push('"params" must be {"value":{...},"time":ms}');
    else checkTime("params", params.time, false);
  } else if (kind === "ota-inform") {
    const params = msg.params;
    if (!isObj(params) || typeof params.version !== "string" || params.version === "") {
      checks.push('"params.version" must be a non-empty string');
    }
  } else if (kind === "ota-progress") {
    const params = msg.params;
    const step = isObj(params) ? params.step : undefined;
    const n = typeof step === "string" && /^-?[0-9]{1,3}$/.test(step) ? Number(step) : NaN;
    if (!((n >= 1 && n <= 100) || (n >= -4 && n <= -1))) checks.push('"params.step" must be a string "1".."100" or "-1".."-4"');
    if (isObj(params) && params.desc !== undefined && typeof params.desc !== "string") checks.push('"params.desc" must be a string');
  } else {
    checks.push("no Alink check for this topic (not a known system topic)");
  }
  return { kind, checks, readings: [...byTime.values()].sort((a, b) => a.time - b.time) };
}
