// .NET date/time format strings (invariant culture): port of storage/dotnet_format.py.

import { reprStr, zpad } from "./pystr.js";
import { Moment, UTC } from "./time.js";

export class DateFormatError extends Error {}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export const STANDARD_FORMATS = {
  d: "MM/dd/yyyy",
  D: "dddd, dd MMMM yyyy",
  f: "dddd, dd MMMM yyyy HH:mm",
  F: "dddd, dd MMMM yyyy HH:mm:ss",
  g: "MM/dd/yyyy HH:mm",
  G: "MM/dd/yyyy HH:mm:ss",
  m: "MMMM dd",
  M: "MMMM dd",
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: "HH:mm",
  T: "HH:mm:ss",
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  U: "dddd, dd MMMM yyyy HH:mm:ss",
  y: "yyyy MMMM",
  Y: "yyyy MMMM",
};
const UTC_STANDARD = "rRuU";

function offsetText(value, width) {
  const offset = value.offset;
  const sign = offset < 0 ? "-" : "+";
  const total = Math.floor(Math.abs(Math.trunc(offset)) / 60);
  const hours = Math.floor(total / 60);
  const minutes = total % 60;
  if (width === 1) return `${sign}${hours}`;
  if (width === 2) return `${sign}${zpad(hours, 2)}`;
  return `${sign}${zpad(hours, 2)}:${zpad(minutes, 2)}`;
}

// Format strings are walked by UTF-16 unit; every specifier is ASCII, so a surrogate pair is copied
// unchanged either way (Python walks code points).
function runLength(fmt, index) {
  let end = index;
  while (end < fmt.length && fmt[end] === fmt[index]) end += 1;
  return end - index;
}

function quoted(fmt, index) {
  const quote = fmt[index];
  let out = "";
  let i = index + 1;
  while (i < fmt.length) {
    const ch = fmt[i];
    if (ch === quote) return [out, i + 1];
    if (ch === "\\" && i + 1 < fmt.length) {
      out += fmt[i + 1];
      i += 2;
      continue;
    }
    out += ch;
    i += 1;
  }
  throw new DateFormatError(`unterminated quoted literal starting at position ${index} in ${reprStr(fmt)}`);
}

function fraction(value, count) {
  return `${zpad(value.microsecond, 6)}0`.slice(0, count);
}

export function formatCustom(value, fmt) {
  const out = [];
  let i = 0;
  const n = fmt.length;
  while (i < n) {
    const ch = fmt[i];
    if (ch === "'" || ch === '"') {
      const [text, next] = quoted(fmt, i);
      out.push(text);
      i = next;
      continue;
    }
    if (ch === "\\") {
      if (i + 1 >= n) throw new DateFormatError(`a backslash at the end of ${reprStr(fmt)} escapes nothing`);
      out.push(fmt[i + 1]);
      i += 2;
      continue;
    }
    if (ch === "%") {
      if (i + 1 >= n || fmt[i + 1] === "%") {
        throw new DateFormatError(`'%' in ${reprStr(fmt)} must be followed by one format specifier`);
      }
      i += 1;
      continue;
    }
    const count = runLength(fmt, i);
    i += count;
    if (ch === "y") {
      const year = value.year;
      out.push(count === 1 ? String(year % 100) : count === 2 ? zpad(year % 100, 2) : zpad(year, count));
    } else if (ch === "M") {
      if (count <= 2) out.push(zpad(value.month, count));
      else {
        const name = MONTHS[value.month - 1];
        out.push(count === 3 ? name.slice(0, 3) : name);
      }
    } else if (ch === "d") {
      if (count <= 2) out.push(zpad(value.day, count));
      else {
        const name = DAYS[value.weekday];
        out.push(count === 3 ? name.slice(0, 3) : name);
      }
    } else if ("Hhms".includes(ch)) {
      const number = { H: value.hour, h: value.hour % 12 || 12, m: value.minute, s: value.second }[ch];
      out.push(zpad(number, Math.min(count, 2)));
    } else if (ch === "f") {
      if (count > 7) throw new DateFormatError(`more than seven 'f' specifiers in ${reprStr(fmt)}`);
      out.push(fraction(value, count));
    } else if (ch === "F") {
      if (count > 7) throw new DateFormatError(`more than seven 'F' specifiers in ${reprStr(fmt)}`);
      const digits = fraction(value, count).replace(/0+$/, "");
      if (digits) out.push(digits);
      else if (out.length && out[out.length - 1].endsWith(".")) {
        out[out.length - 1] = out[out.length - 1].slice(0, -1);
      }
    } else if (ch === "t") {
      const designator = value.hour < 12 ? "AM" : "PM";
      out.push(count === 1 ? designator[0] : designator);
    } else if (ch === "z") {
      out.push(offsetText(value, Math.min(count, 3)));
    } else if (ch === "K") {
      for (let k = 0; k < count; k += 1) out.push(value.isUtc() ? "Z" : offsetText(value, 3));
    } else if (ch === "g") {
      out.push("A.D.");
    } else if (ch === ":") {
      out.push(":".repeat(count));
    } else if (ch === "/") {
      out.push("/".repeat(count));
    } else {
      out.push(ch.repeat(count));
    }
  }
  return out.join("");
}

export function formatDatetime(value, fmt) {
  if (!(value instanceof Moment)) throw new TypeError("formatDatetime needs a Moment");
  let pattern = fmt || "G";
  if ([...pattern].length === 1) {
    const standard = STANDARD_FORMATS[pattern];
    if (standard === undefined) {
      const letters = Object.keys(STANDARD_FORMATS).sort().join("");
      throw new DateFormatError(
        `${reprStr(pattern)} is not a standard date/time format (one of ${letters}); use '%${pattern}' for the single custom specifier`,
      );
    }
    if (UTC_STANDARD.includes(pattern)) value = value.withZone(UTC);
    return formatCustom(value, standard);
  }
  return formatCustom(value, pattern);
}

const PROBE = () => new Moment(Date.UTC(2026, 0, 2, 3, 4, 5, 678), 901, UTC);

export function validateFormat(fmt) {
  formatDatetime(PROBE(), fmt);
}
