// Template functions {Placeholder|Function1;Function2(args)}: port of storage/functions.py.

import { DateFormatError, formatDatetime, validateFormat } from "./dotnet_format.js";
import { isDecimal, pyInt, pyIntDigits, pyLen, pyLower, pyPad, pyStrip, pyUpper, repr, reprStr, zpad } from "./pystr.js";
import { isMoment, parseTimeZone, parseTimestamp, TimeZoneError, UTC } from "./time.js";

export const DEFAULT_TIME_FORMAT = "yyyy-MM-dd_HH-mm-ss";
export const MAX_PAD = 200;

export class FunctionError extends Error {}

/** A number value (Python int) is kept apart from text: {int: n}. */
export function isInt(value) {
  return typeof value === "number";
}

export function toText(value) {
  if (isMoment(value)) return formatDatetime(value, DEFAULT_TIME_FORMAT);
  if (value === null || value === undefined) return "";
  return String(value);
}

const NUMBER_FORMAT = /^(?:[Dd](\p{Nd}{0,2})|(0+))$/u;

function format(value, args, onWarning) {
  const fmt = args[0];
  if (isInt(value)) {
    const m = NUMBER_FORMAT.exec(fmt);
    if (!m) throw new FunctionError(`number format ${reprStr(fmt)} is not 'D<digits>' or zeros like '0000'`);
    const width = m[1] !== undefined ? (m[1] ? pyIntDigits(m[1]) : 0) : m[2].length;
    return value >= 0 ? zpad(value, width) : `-${zpad(-value, width)}`;
  }
  if (typeof value === "string") {
    let moment;
    try {
      moment = parseTimestamp(value);
    } catch {
      if (onWarning) onWarning(`Format(${fmt}) applied to text that is not a timestamp; value kept as is`);
      return value;
    }
    value = moment;
  }
  if (isMoment(value)) return formatDatetime(value, fmt);
  return value;
}

const toUtc = (value) => (isMoment(value) ? value.withZone(UTC) : value);
const toOffset = (value, args) => (isMoment(value) ? value.withZone(parseTimeZone(args[0])) : value);
const upper = (value) => pyUpper(toText(value));
const lower = (value) => pyLower(toText(value));

function pad(left) {
  return (value, args) => {
    const width = pyInt(args[0]);
    const fill = args.length > 1 ? args[1] : left ? "0" : "_";
    return pyPad(toText(value), width, fill, left);
  };
}

function random(value, args) {
  const low = pyInt(args[0]);
  const high = pyInt(args[1]);
  const buf = new Uint32Array(1);
  globalThis.crypto.getRandomValues(buf);
  return low + (buf[0] % (high - low + 1));
}

const passThrough = (value) => value;

function spec(name, apply, minArgs, maxArgs, { wholeArgument = false, needs = null } = {}) {
  return { name, apply, minArgs, maxArgs, wholeArgument, needs };
}

export const FUNCTIONS = Object.fromEntries(
  [
    spec("Format", format, 1, 1, { wholeArgument: true }),
    spec("ToUtc", toUtc, 0, 0, { needs: "time" }),
    spec("ToOffset", toOffset, 1, 1, { needs: "time" }),
    spec("ToUpper", upper, 0, 0),
    spec("ToLower", lower, 0, 0),
    spec("PadLeft", pad(true), 1, 2),
    spec("PadRight", pad(false), 1, 2),
    spec("Random", random, 2, 2),
    spec("Default", passThrough, 1, 1, { wholeArgument: true }),
  ].map((s) => [s.name.toLowerCase(), s]),
);

export function splitArguments(fn, raw) {
  if (raw === null || raw === undefined) return [];
  if (fn.wholeArgument) return [raw];
  return raw.split(",").map((part) => pyStrip(part));
}

/** Resolve and validate one function call; throws FunctionError with the Python message. */
export function checkCall(name, rawArgs, valueType) {
  const fn = FUNCTIONS[name.toLowerCase()];
  if (!fn) {
    const known = Object.values(FUNCTIONS)
      .map((s) => s.name)
      .join(", ");
    throw new FunctionError(`unknown function ${reprStr(name)} (known: ${known})`);
  }
  const args = splitArguments(fn, rawArgs);
  if (!(fn.minArgs <= args.length && args.length <= fn.maxArgs)) {
    const expected = fn.minArgs === fn.maxArgs ? String(fn.minArgs) : `${fn.minArgs}..${fn.maxArgs}`;
    throw new FunctionError(`${fn.name} takes ${expected} argument(s), got ${args.length}`);
  }
  if (fn.needs === "time" && !(valueType === "time" || valueType === null)) {
    throw new FunctionError(`${fn.name} needs a date/time placeholder, not a ${valueType} one`);
  }
  if (fn.name === "Format") {
    if (!args[0]) throw new FunctionError("Format needs a format string, e.g. Format(yyyyMMdd_HHmmss)");
    if (valueType === "time") {
      try {
        validateFormat(args[0]);
      } catch (exc) {
        if (exc instanceof DateFormatError) throw new FunctionError(exc.message);
        throw exc;
      }
    } else if (valueType === "number" && !NUMBER_FORMAT.test(args[0])) {
      throw new FunctionError(`number format ${reprStr(args[0])} is not 'D<digits>' or zeros like '0000'`);
    }
  } else if (fn.name === "ToOffset") {
    try {
      parseTimeZone(args[0]);
    } catch (exc) {
      if (exc instanceof TimeZoneError) throw new FunctionError(exc.message);
      throw exc;
    }
  } else if (fn.name === "PadLeft" || fn.name === "PadRight") {
    const width = isDecimal(args[0]) ? pyIntDigits(args[0]) : null;
    if (width === null || !(width > 0 && width <= MAX_PAD)) {
      throw new FunctionError(`${fn.name} width must be a whole number 1..${MAX_PAD}, got ${reprStr(args[0])}`);
    }
    if (args.length > 1 && pyLen(args[1]) !== 1) {
      throw new FunctionError(`${fn.name} fill must be exactly one character, got ${reprStr(args[1])}`);
    }
  } else if (fn.name === "Random") {
    const low = pyInt(args[0]);
    const high = pyInt(args[1]);
    if (low === null || high === null) {
      throw new FunctionError(`Random needs two whole numbers, got ${repr(args)}`.replace(/^(.*got )\[(.*)\]$/, "$1($2)"));
    }
    if (low > high) throw new FunctionError(`Random(${low},${high}): the minimum is larger than the maximum`);
  }
  return [fn, args];
}
