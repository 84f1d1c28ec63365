// Interval: the time bucket of the Hierarchical and Flat directory modes: port of storage/intervals.py.

import { pyIntDigits, PY_SPACE, reprStr, zpad } from "./pystr.js";

export const UNITS = ["y", "mo", "d", "h", "m"];
export const ALLOWED_COUNTS = {
  m: [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30],
  h: [1, 2, 3, 4, 6, 8, 12],
  d: [1],
  mo: [1, 2, 3, 4, 6],
  y: [1],
};
const PROMOTE = { "m:60": ["h", 1], "h:24": ["d", 1], "mo:12": ["y", 1] };
const PATTERN = new RegExp(`^[${PY_SPACE}]*(\\p{Nd}+)[${PY_SPACE}]*(mo|m|h|d|y)[${PY_SPACE}]*$`, "u");

export class IntervalError extends Error {}

export class Interval {
  constructor(count, unit) {
    this.count = count;
    this.unit = unit;
  }
  /** The bucket start's wall-clock fields [year, month, day, hour, minute] of a Moment. */
  bucketFields(moment) {
    const { year, month, day, hour, minute } = moment;
    if (this.unit === "y") return [year, 1, 1, 0, 0];
    if (this.unit === "mo") return [year, Math.floor((month - 1) / this.count) * this.count + 1, 1, 0, 0];
    if (this.unit === "d") return [year, month, day, 0, 0];
    if (this.unit === "h") return [year, month, day, Math.floor(hour / this.count) * this.count, 0];
    return [year, month, day, hour, Math.floor(minute / this.count) * this.count];
  }
  hierarchicalParts(moment) {
    const [y, mo, d, h, mi] = this.bucketFields(moment);
    const parts = [zpad(y, 4), zpad(mo, 2), zpad(d, 2), zpad(h, 2), zpad(mi, 2)];
    return parts.slice(0, UNITS.indexOf(this.unit) + 1);
  }
  flatName(moment) {
    return this.hierarchicalParts(moment).join("");
  }
  toString() {
    return `${this.count}${this.unit}`;
  }
}

export function parseInterval(text) {
  const m = PATTERN.exec(String(text));
  if (!m) {
    throw new IntervalError(
      `interval ${reprStr(String(text))} is not a count and a unit (m, h, d, mo, y), for example '15m', '1h', '1d', '1mo', '1y'`,
    );
  }
  let count = pyIntDigits(m[1]);
  let unit = m[2];
  const promoted = PROMOTE[`${unit}:${count}`];
  if (promoted) [unit, count] = promoted;
  if (!ALLOWED_COUNTS[unit].includes(count)) {
    const allowed = ALLOWED_COUNTS[unit].map((c) => `${c}${unit}`).join(", ");
    throw new IntervalError(`interval ${reprStr(String(text))} does not divide its parent unit evenly; allowed: ${allowed}`);
  }
  return new Interval(count, unit);
}
