// Run the exported ELM on FHIR R4 bundles with an engine independent of fasciculate: cql-execution
// (the CQL engine in JavaScript) with cql-exec-fhir (its FHIR R4 data source). Reads bundles on
// standard input, one patient each, every Patient with a distinct id: a JSON array, or one bundle
// a line (JSON Lines). Prints, for each Patient id, the value of every define named on the command
// line: one JSON object for an array, or one line `[id, {define: value}]` per bundle, as each is
// decided, for JSON Lines (a long run can be fed in chunks and read as it goes).
// Usage: node tools/cpg/execute.mjs ELM.json DEFINE [DEFINE ...] < bundles.json
//
// Only the named defines are evaluated, with what they refer to (each define at most once per
// patient: the engine keeps its value in the patient's context); the ELM is read once for all.
// One change to the data source, not to the engine or the ELM: cql-exec-fhir makes a new wrapper
// object every time an element is read (`I.linkId`, `A.value`, ...), which, with a questionnaire's
// answers read once per question, is most of the time spent. Each wrapper here remembers the
// wrappers of its elements, read from the same immutable JSON, so each is made once per patient;
// and the engine's value key of a wrapper (``toNormalizedKey``, by which a query's result is made
// distinct, every query without `return all`) is computed once per wrapper, not once per query.
// Both are caches of pure functions of immutable data: the values are the engine's own.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import cql from "cql-execution";
import cqlfhir from "cql-exec-fhir";

const [elmPath, ...defines] = process.argv.slice(2);
if (!elmPath || defines.length === 0) {
  console.error("usage: node tools/cpg/execute.mjs ELM.json DEFINE [DEFINE ...] < bundles.json");
  process.exit(2);
}
const library = new cql.Library(JSON.parse(readFileSync(elmPath, "utf8")));
const expressions = defines.map((name) => {
  const expression = library.expressions[name];
  if (expression === undefined) {
    console.error(`execute.mjs: the library has no define named ${JSON.stringify(name)}`);
    process.exit(2);
  }
  return [name, expression];
});

// The wrapper class of cql-exec-fhir (not exported): the prototype its Patient extends.
function wrapperOf(source) {
  source.loadBundles([{ resourceType: "Bundle", entry: [{ resource: { resourceType: "Patient" } }] }]);
  const wrapper = Object.getPrototypeOf(Object.getPrototypeOf(source.currentPatient()));
  source.reset();
  return wrapper;
}

function rememberElements(wrapper) {
  const read = wrapper.get;
  const elements = new WeakMap();
  wrapper.get = function get(field) {
    let known = elements.get(this);
    if (known === undefined) {
      known = new Map();
      elements.set(this, known);
    }
    if (!known.has(field)) {
      known.set(field, read.call(this, field));
    }
    return known.get(field);
  };
}

// The engine's value key of a wrapper (by which a query's result is made distinct) walks the whole
// resource; the wrapped JSON does not change, so neither does the key.
function rememberKeys(wrapper) {
  const keys = createRequire(import.meta.url)("cql-execution/lib/util/immutableUtil");
  const key = keys.toNormalizedKey;
  const known = new WeakMap();
  keys.toNormalizedKey = (value) => {
    if (value === null || typeof value !== "object" || !wrapper.isPrototypeOf(value)) {
      return key(value);
    }
    if (!known.has(value)) {
      known.set(value, key(value));
    }
    return known.get(value);
  };
}

const source = cqlfhir.PatientSource.FHIRv401();
const wrapper = wrapperOf(source);
rememberElements(wrapper);
rememberKeys(wrapper);

async function decide(bundle) {
  source.loadBundles([bundle]);
  const patient = source.currentPatient();
  const context = new cql.PatientContext(library, patient);
  const values = {};
  for (const [name, expression] of expressions) {
    values[name] = (await expression.execute(context)) ?? null;
  }
  source.reset();
  return [patient.getId(), values];
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
const lines = [];
let streaming = null;
for await (const line of input) {
  if (streaming === null && line.trim() !== "") {
    streaming = !line.trimStart().startsWith("[");
  }
  if (streaming && line.trim() !== "") {
    process.stdout.write(JSON.stringify(await decide(JSON.parse(line))) + "\n");
  } else if (!streaming) {
    lines.push(line);
  }
}
if (!streaming) {
  const out = {};
  for (const bundle of JSON.parse(lines.join("\n") || "[]")) {
    const [id, values] = await decide(bundle);
    out[id] = values;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
