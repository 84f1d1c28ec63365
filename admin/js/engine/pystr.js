// Python-compatible text helpers: the template engine is a port of the Python one (storage/), and
// Python counts code points, strips Unicode whitespace, prints repr() and hashes UTF-8 with
// 'surrogatepass'. These helpers make the JavaScript port give byte-identical results (checked by
// the golden vectors in tests/golden/engine_vectors.json).

// Characters for which Python's str.isspace() is true.
export const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`, "u");
const TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`, "u");

/** Code points of a string (Python's view of a str). */
export function chars(text) {
  return Array.from(text);
}

/** len(text) in Python. */
export function pyLen(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** text[start:end] in Python (code points; negative indexes count from the end). */
export function pySlice(text, start, end) {
  const cps = chars(text);
  return cps.slice(start, end === undefined ? cps.length : end).join("");
}

/** str.strip() with no argument. */
export function pyStrip(text) {
  return text.replace(LEADING_SPACE, "").replace(TRAILING_SPACE, "");
}

/** str.strip(chars) / rstrip(chars) with explicit characters. */
export function stripChars(text, set, { left = true, right = true } = {}) {
  const cps = chars(text);
  let a = 0;
  let b = cps.length;
  if (left) while (a < b && set.includes(cps[a])) a += 1;
  if (right) while (b > a && set.includes(cps[b - 1])) b -= 1;
  return cps.slice(a, b).join("");
}

/** str.isspace() of a whole string (false for ""). */
export function isSpace(text) {
  return text.length > 0 && new RegExp(`^[${PY_SPACE}]+$`, "u").test(text);
}

/** str.isalpha() */
export function isAlpha(text) {
  return text.length > 0 && /^\p{L}+$/u.test(text);
}

const ND = /^\p{Nd}$/u;

/** The value of one Unicode decimal digit (Python's int() accepts every \p{Nd}). */
export function digitValue(ch) {
  let cp = ch.codePointAt(0);
  let start = cp;
  while (start - 1 >= 0 && ND.test(String.fromCodePoint(start - 1))) start -= 1;
  return (cp - start) % 10;
}

/** int(text) for text made of Unicode decimal digits with an optional sign (no underscores). */
export function pyIntDigits(text) {
  const m = /^([+-]?)(\p{Nd}+)$/u.exec(text);
  if (!m) return null;
  let value = 0;
  for (const ch of m[2]) value = value * 10 + digitValue(ch);
  return m[1] === "-" ? -value : value;
}

/** int(text) as Python parses it: surrounding whitespace, sign, digits and single underscores. */
export function pyInt(text) {
  const t = pyStrip(String(text));
  const m = /^([+-]?)(\p{Nd}+(?:_\p{Nd}+)*)$/u.exec(t);
  if (!m) return null;
  return pyIntDigits(m[1] + m[2].replaceAll("_", ""));
}

/** str.isdigit() restricted to decimal digits (what int() can read). */
export function isDecimal(text) {
  return text.length > 0 && /^\p{Nd}+$/u.test(text);
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function escapeCodePoint(cp) {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** repr() of a Python str. */
export function reprStr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i);
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch !== " " && NON_PRINTABLE.test(ch)) out += escapeCodePoint(cp);
    else out += ch;
  }
  return out + quote;
}

function reprFloat(value) {
  if (Number.isInteger(value)) {
    if (Math.abs(value) >= 1e16) return String(value).replace("e+", "e+");
    return `${value}.0`;
  }
  return String(value);
}

/** repr() of a JSON value as Python would print it after json.loads. */
export function repr(value, { asFloat = false } = {}) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return reprStr(value);
  if (typeof value === "number") return asFloat ? reprFloat(value) : String(value);
  if (Array.isArray(value)) return `[${value.map((v) => repr(v)).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${reprStr(k)}: ${repr(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

/** UTF-8 bytes as Python's text.encode("utf-8", "surrogatepass") makes them. */
export function utf8(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 1) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i += 1;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return out;
}

/** SHA-1 hex digest of a byte array (synchronous: crypto.subtle is asynchronous). */
export function sha1Hex(bytes) {
  const words = [];
  const length = bytes.length;
  const padded = bytes.slice();
  padded.push(0x80);
  while (padded.length % 64 !== 56) padded.push(0);
  const bitLength = length * 8;
  const high = Math.floor(bitLength / 0x100000000);
  padded.push((high >>> 24) & 255, (high >>> 16) & 255, (high >>> 8) & 255, high & 255);
  padded.push((bitLength >>> 24) & 255, (bitLength >>> 16) & 255, (bitLength >>> 8) & 255, bitLength & 255);
  for (let i = 0; i < padded.length; i += 4) {
    words.push(((padded[i] << 24) | (padded[i + 1] << 16) | (padded[i + 2] << 8) | padded[i + 3]) >>> 0);
  }
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Array(80);
  const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;
  for (let block = 0; block < words.length; block += 16) {
    for (let t = 0; t < 16; t += 1) w[t] = words[block + t];
    for (let t = 16; t < 80; t += 1) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    let [a, b, c, d, e] = [h0, h1, h2, h3, h4];
    for (let t = 0; t < 80; t += 1) {
      let f;
      let k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (rotl(a, 5) + (f >>> 0) + e + k + w[t]) >>> 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  return [h0, h1, h2, h3, h4].map((h) => h.toString(16).padStart(8, "0")).join("");
}

/** str.upper() / str.lower() (both use Unicode's default, locale-independent case mapping). */
export const pyUpper = (text) => text.toUpperCase();
export const pyLower = (text) => text.toLowerCase();

/** text.rjust(width, fill) / ljust counting code points. */
export function pyPad(text, width, fill, left) {
  const missing = width - pyLen(text);
  if (missing <= 0) return text;
  const pad = fill.repeat(missing);
  return left ? pad + text : text + pad;
}

/** Python's str(int) for the numbers the engine handles. */
export function pyIntText(value) {
  return String(value);
}

/** Zero-padded integer like f"{n:0{width}d}". */
export function zpad(value, width) {
  const negative = value < 0;
  const digits = String(Math.abs(value)).padStart(negative ? Math.max(0, width - 1) : width, "0");
  return negative ? `-${digits}` : digits;
}

const K256 = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** SHA-256 hex digest of a byte array (synchronous). */
export function sha256Hex(bytes) {
  const padded = bytes.slice();
  const bitLength = bytes.length * 8;
  padded.push(0x80);
  while (padded.length % 64 !== 56) padded.push(0);
  const high = Math.floor(bitLength / 0x100000000);
  padded.push((high >>> 24) & 255, (high >>> 16) & 255, (high >>> 8) & 255, high & 255);
  padded.push((bitLength >>> 24) & 255, (bitLength >>> 16) & 255, (bitLength >>> 8) & 255, bitLength & 255);
  const h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const w = new Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t += 1) {
      const i = block + t * 4;
      w[t] = ((padded[i] << 24) | (padded[i + 1] << 16) | (padded[i + 2] << 8) | padded[i + 3]) >>> 0;
    }
    for (let t = 16; t < 64; t += 1) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let t = 0; t < 64; t += 1) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const temp1 = (hh + S1 + ch + K256[t] + w[t]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const temp2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + temp1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (temp1 + temp2) >>> 0;
    }
    h[0] = (h[0] + a) >>> 0;
    h[1] = (h[1] + b) >>> 0;
    h[2] = (h[2] + c) >>> 0;
    h[3] = (h[3] + d) >>> 0;
    h[4] = (h[4] + e) >>> 0;
    h[5] = (h[5] + f) >>> 0;
    h[6] = (h[6] + g) >>> 0;
    h[7] = (h[7] + hh) >>> 0;
  }
  return h.map((x) => x.toString(16).padStart(8, "0")).join("");
}
