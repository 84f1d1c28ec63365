// Runs the golden vectors through the JavaScript port under Node:
//   node tests/golden/run_node.mjs [tests/golden/engine_vectors.json]
// Prints "N passed, M failed" and the first failures; exit status 1 when any case differs.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const { setEngineData } = await import(join(root, "admin/js/engine/data.js"));
const { runVectors } = await import(join(root, "admin/js/engine/golden.js"));

setEngineData(JSON.parse(readFileSync(join(root, "admin/data/engine.json"), "utf-8")));
const vectors = JSON.parse(readFileSync(process.argv[2] || join(here, "engine_vectors.json"), "utf-8"));
const { count, failures } = runVectors(vectors);
for (const f of failures.slice(0, 15)) {
  console.log(`FAIL ${f.section}[${f.index}] ${JSON.stringify(f.input).slice(0, 300)}`);
  console.log(`  expected ${JSON.stringify(f.expected).slice(0, 600)}`);
  console.log(`  actual   ${JSON.stringify(f.actual).slice(0, 600)}`);
}
console.log(`${count - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
