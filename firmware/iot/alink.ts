// Alink JSON payloads and topics of a directly connected device (alibaba-http.md sections 4-5).
// Text is built by hand: FLOAT values need a decimal point JSON.stringify would drop (61 -> "61").

/** One property value: a FLOAT number, a string, or either with its own sample time (epoch ms). */
export type PropValue = number | string | { value: number | string; time: number };
export interface Props { [name: string]: PropValue }
/** A stored reading for a history post: sample time (epoch ms) and its FLOAT/string values. */
export interface TimedReading { timeMs: number; values: { [name: string]: number | string } }

/** Most properties and bytes the platform takes in one post. */
export const MAX_PROPS = 200;
export const MAX_POST_BYTES = 131072;

/** JSON string literal with non-ASCII escaped as \uXXXX: the body is then ASCII, so bytes = chars. */
function str(s: string): string {
  const j = JSON.stringify(String(s));
  let out = "";
  for (let i = 0; i < j.length; i++) {
    const c = j.charCodeAt(i);
    out += c > 126 ? "\\u" + (c + 0x10000).toString(16).substr(1) : j.charAt(i);
  }
  return out;
}

/**
 * FLOAT text at the sensor's 0.1 resolution, always with a decimal point; "" when not finite. Built
 * from whole tenths, halves away from zero: Espruino's Math.round(-2.5) is -3 (V8: -2) and its
 * toFixed rounds differently ((2.45).toFixed(1) is "2.4"), so the same reading gives the same text.
 */
export function floatText(v: number): string {
  const t = Math.round(Math.abs(v) * 10);
  return v === v && t !== Infinity ? (v < 0 && t ? "-" : "") + Math.floor(t / 10) + "." + (t % 10) : "";
}

/** A reading for the log: `23.5 C 61.2 %RH`. */
export function readingText(temperature: number, humidity: number): string {
  return floatText(temperature) + " C " + floatText(humidity) + " %RH";
}

function valueText(v: number | string): string {
  return typeof v === "number" ? floatText(v) : str(v);
}

/** `{"name":value,...}` and how many properties went in; non-finite numbers are left out (not readings). */
function propsText(p: Props): { text: string; count: number } {
  let s = "";
  let n = 0;
  for (const k in p) {
    const v = p[k];
    const t = typeof v === "object" ? (floatText(v.time) ? valueText(v.value) : "") : valueText(v);
    if (!t) continue; // a value or time that is not a number is not a reading
    s += (n++ ? "," : "") + str(k) + ":" + (typeof v === "object" ? '{"value":' + t + ',"time":' + Math.floor(v.time) + "}" : t);
  }
  return { text: "{" + s + "}", count: n };
}

/** `thing.event.property.post` body; `id` is a digit string unique per device per day. */
export function propertyPost(id: string, props: Props): string {
  return '{"id":' + str(id) + ',"version":"1.0","params":' + propsText(props).text + ',"method":"thing.event.property.post"}';
}

/** `thing.event.{eventId}.post` body with the event's output values and optional time (epoch ms). */
export function eventPost(id: string, eventId: string, values: Props, timeMs?: number): string {
  return '{"id":' + str(id) + ',"version":"1.0","params":{"value":' + propsText(values).text +
    (timeMs ? ',"time":' + Math.floor(timeMs) : "") + '},"method":' + str("thing.event." + eventId + ".post") + "}";
}

/**
 * `thing.event.property.history.post` bodies for stored readings, in order, split so that each
 * carries at most 200 properties and 128 KB. `nextId` gives each post its id.
 */
export function historyPosts(productKey: string, deviceName: string, readings: TimedReading[], nextId: () => string): string[] {
  const head = ',"version":"1.0","params":[{"identity":{"productKey":' + str(productKey) + ',"deviceName":' + str(deviceName) + '},"properties":[';
  const tail = '],"events":[]}],"method":"thing.event.property.history.post"}';
  const room = MAX_POST_BYTES - head.length - tail.length - 20; // 20: '{"id":"4294967295"' and slack
  const posts: string[] = [];
  let body = "";
  let props = 0;
  for (let r = 0; r < readings.length; r++) {
    const p: Props = {};
    for (const k in readings[r].values) p[k] = { value: readings[r].values[k], time: readings[r].timeMs };
    const e = propsText(p);
    if (!e.count) continue;
    if (body && (props + e.count > MAX_PROPS || body.length + 1 + e.text.length > room)) {
      posts.push('{"id":' + str(nextId()) + head + body + tail);
      body = "";
      props = 0;
    }
    body += (body ? "," : "") + e.text;
    props += e.count;
  }
  if (body) posts.push('{"id":' + str(nextId()) + head + body + tail);
  return posts;
}

/** OTA version report for `/ota/device/inform/{pk}/{dn}`. */
export function otaInform(id: string, version: string, module?: string): string {
  return '{"id":' + str(id) + ',"params":{"version":' + str(version) + (module ? ',"module":' + str(module) : "") + "}}";
}

/** OTA progress for `/ota/device/progress/{pk}/{dn}`: step 1..100 percent, or -1..-4 failures. */
export function otaProgress(id: string, step: number, desc: string, module?: string): string {
  return '{"id":' + str(id) + ',"params":{"step":' + str(String(step)) + ',"desc":' + str(desc) + (module ? ',"module":' + str(module) : "") + "}}";
}

/** The topics this device publishes to. */
export function topics(productKey: string, deviceName: string) {
  const ev = "/sys/" + productKey + "/" + deviceName + "/thing/event/";
  const pd = productKey + "/" + deviceName;
  return {
    property: ev + "property/post",
    history: ev + "property/history/post",
    event: function (eventId: string) { return ev + eventId + "/post"; },
    otaInform: "/ota/device/inform/" + pd,
    otaProgress: "/ota/device/progress/" + pd,
  };
}

/** An event post's topic and body (eventPost), in one call: a caller loads the writers once. */
export function eventRequest(productKey: string, deviceName: string, id: string, eventId: string, values: Props, timeMs?: number): { topic: string; body: string } {
  return { topic: topics(productKey, deviceName).event(eventId), body: eventPost(id, eventId, values, timeMs) };
}
