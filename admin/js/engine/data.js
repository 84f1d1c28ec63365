// The data the engine shares with the Python implementation, generated from it by
// `python run.py admin generate` into admin/data/engine.json: the profile JSON Schema
// (profiles/schema.json), the placeholder vocabulary, the format extensions, the IANA zone names
// Python knows and the built-in sample call. The app loads it once at start-up.

let data = null;

export function setEngineData(value) {
  data = value;
}

export function engineData() {
  if (data === null) throw new Error("engine data not loaded (call setEngineData first)");
  return data;
}
