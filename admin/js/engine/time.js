// Instants with a time zone (Python's aware datetime) and TimeZoneOffset parsing: port of
// storage/timezones.py. A Moment is an instant (epoch milliseconds + extra microseconds) seen in a
// zone; its wall-clock fields come from the zone's UTC offset at that instant (Intl for IANA zones).

import { engineData } from "./data.js";
import { isAlpha, pyIntDigits, pyStrip, reprStr } from "./pystr.js";

export class TimeZoneError extends Error {}

/** A fixed offset (seconds east of UTC); `utc` marks Python's datetime.UTC. */
export class FixedZone {
  constructor(offsetSeconds, utc = false) {
    this.offsetSeconds = offsetSeconds;
    this.utc = utc;
  }
  offsetAt() {
    return this.offsetSeconds;
  }
  isUtcAt() {
    return this.utc || this.offsetSeconds === 0;
  }
}

export const UTC = new FixedZone(0, true);

const formatters = new Map();

function formatterFor(name) {
  let f = formatters.get(name);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(name, f);
  }
  return f;
}

/** An IANA zone (offsets from the browser's time zone database). */
export class IanaZone {
  constructor(name) {
    this.name = name;
    this.cache = new Map();
    formatterFor(name); // throws RangeError for a zone this browser does not know
  }
  offsetAt(epochMs) {
    const second = Math.floor(epochMs / 1000) * 1000;
    if (this.cache.has(second)) return this.cache.get(second);
    const parts = {};
    for (const p of formatterFor(this.name).formatToParts(new Date(second))) parts[p.type] = p.value;
    let year = Number(parts.year);
    if (parts.era === "BC" || parts.era === "B") year = 1 - year;
    const fixedWall = new Date(0);
    fixedWall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
    fixedWall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
    const offset = Math.round((fixedWall.getTime() - second) / 1000);
    if (this.cache.size > 512) this.cache.clear();
    this.cache.set(second, offset);
    return offset;
  }
  isUtcAt() {
    return engineData().utcZones.includes(this.name);
  }
}

const OFFSET = /^([+-])(\p{Nd}{1,2})(?::?(\p{Nd}{2}))?$/u;
const zoneCache = new Map();

/** parse_time_zone: "+01:00", "-05:30", "+0100", "+1", "Z"/"UTC"/"GMT" or an IANA name. */
export function parseTimeZone(text) {
  if (zoneCache.has(text)) return zoneCache.get(text);
  const zone = parseTimeZoneUncached(text);
  if (zoneCache.size > 256) zoneCache.clear();
  zoneCache.set(text, zone);
  return zone;
}

function parseTimeZoneUncached(text) {
  const value = pyStrip(text);
  if (["Z", "UTC", "GMT", "+00:00", "-00:00"].includes(value.toUpperCase())) return UTC;
  const m = OFFSET.exec(value);
  if (m) {
    const hours = pyIntDigits(m[2]);
    const minutes = m[3] ? pyIntDigits(m[3]) : 0;
    if (minutes >= 60 || hours * 60 + minutes > 14 * 60) {
      throw new TimeZoneError(`offset ${reprStr(text)} is outside -14:00..+14:00`);
    }
    const seconds = (hours * 60 + minutes) * 60;
    if (seconds === 0) return UTC;
    return new FixedZone(m[1] === "-" ? -seconds : seconds);
  }
  if (value.includes("/") || isAlpha(value)) {
    if (!engineData().timeZones.includes(value)) {
      throw new TimeZoneError(`${reprStr(text)} is not a known IANA time zone`);
    }
    try {
      return new IanaZone(value);
    } catch {
      throw new TimeZoneError(`${reprStr(text)} is not a known IANA time zone (this browser has no data for it)`);
    }
  }
  throw new TimeZoneError(`${reprStr(text)} is not a UTC offset like '+01:00' nor an IANA zone like 'Europe/Oslo'`);
}

/** An aware instant: epoch milliseconds, extra microseconds (0..999) and the zone it is seen in. */
export class Moment {
  constructor(epochMs, micros, zone) {
    this.epochMs = epochMs;
    this.micros = micros;
    this.zone = zone;
    this.offset = zone.offsetAt(epochMs);
    const wall = new Date(epochMs + this.offset * 1000);
    this.year = wall.getUTCFullYear();
    this.month = wall.getUTCMonth() + 1;
    this.day = wall.getUTCDate();
    this.hour = wall.getUTCHours();
    this.minute = wall.getUTCMinutes();
    this.second = wall.getUTCSeconds();
    this.microsecond = wall.getUTCMilliseconds() * 1000 + micros;
    this.weekday = (wall.getUTCDay() + 6) % 7; // Monday = 0, as Python's weekday()
  }
  withZone(zone) {
    return new Moment(this.epochMs, this.micros, zone);
  }
  isUtc() {
    return this.zone.isUtcAt(this.epochMs);
  }
  /** Python's datetime.timestamp() (a float of seconds). */
  timestamp() {
    return (this.epochMs * 1000 + this.micros) / 1e6;
  }
  compare(other) {
    return this.epochMs - other.epochMs || this.micros - other.micros;
  }
}

export function isMoment(value) {
  return value instanceof Moment;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?(?:([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?$/;

/** datetime.fromisoformat() for the ISO-8601 forms Genesys Cloud writes (extended format). */
export function parseIso(text) {
  const m = ISO.exec(text);
  if (!m) throw new RangeError(`Invalid isoformat string: ${reprStr(text)}`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hour = m[4] ? Number(m[4]) : 0;
  const minute = m[5] ? Number(m[5]) : 0;
  const second = m[6] ? Number(m[6]) : 0;
  let micro = 0;
  if (m[7]) micro = Number((m[7] + "000000").slice(0, 6)); // longer fractions are truncated, as Python does
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 || year < 1) {
    throw new RangeError(`Invalid isoformat string: ${reprStr(text)}`);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  if (d.getUTCDate() !== day) throw new RangeError(`day is out of range for month: ${reprStr(text)}`);
  let offset = 0;
  if (m[8]) {
    offset = Number(m[9]) * 3600 + (m[10] ? Number(m[10]) * 60 : 0) + (m[11] ? Number(m[11]) : 0);
    if (m[8] === "-") offset = -offset;
  }
  const epochMs = d.getTime() - offset * 1000 + Math.floor(micro / 1000);
  return new Moment(epochMs, micro % 1000, UTC);
}

/** parse_timestamp: an aware UTC Moment from ISO text (…Z or with offset) or epoch milliseconds. */
export function parseTimestamp(value) {
  if (value === null || value === undefined || value === "") return null;
  if (value instanceof Moment) return value;
  if (typeof value === "number") {
    const micros = Math.round(value * 1000);
    return new Moment(Math.floor(micros / 1000), ((micros % 1000) + 1000) % 1000, UTC);
  }
  if (typeof value === "boolean") throw new RangeError("not a timestamp");
  let text = pyStrip(String(value));
  if (text.endsWith("Z") || text.endsWith("z")) text = `${text.slice(0, -1)}+00:00`;
  return parseIso(text).withZone(UTC);
}
