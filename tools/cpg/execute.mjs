// Run the exported ELM on FHIR R4 bundles with an engine independent of fasciculate: cql-execution
// (the CQL engine in JavaScript) with cql-exec-fhir (its FHIR R4 data source). Reads a JSON array
// of bundles (one patient each, every Patient with a distinct id) on standard input and prints a
// JSON object: for each Patient id, the value of every define named on the command line.
// Usage: node tools/cpg/execute.mjs ELM.json DEFINE [DEFINE ...] < bundles.json
import { readFileSync } from "node:fs";
import cql from "cql-execution";
import cqlfhir from "cql-exec-fhir";

const [elmPath, ...defines] = process.argv.slice(2);
if (!elmPath || defines.length === 0) {
  console.error("usage: node tools/cpg/execute.mjs ELM.json DEFINE [DEFINE ...] < bundles.json");
  process.exit(2);
}
const library = new cql.Library(JSON.parse(readFileSync(elmPath, "utf8")));
const bundles = JSON.parse(readFileSync(0, "utf8"));
const source = cqlfhir.PatientSource.FHIRv401();
source.loadBundles(bundles);
const results = await new cql.Executor(library).exec(source);
const out = {};
for (const [id, values] of Object.entries(results.patientResults)) {
  out[id] = Object.fromEntries(defines.map((name) => [name, values[name] ?? null]));
}
process.stdout.write(JSON.stringify(out) + "\n");
