// Compile a CQL library to ELM JSON with the reference CQL-to-ELM translator (@cqframework/cql,
// the JavaScript build of the Kotlin/Java reference implementation). The FHIR 4.0.1 model info is
// the one cql-exec-fhir ships (node_modules/cql-exec-fhir/lib/modelInfos); the System model info
// is the translator's own. Usage: node tools/cpg/translate.mjs LIBRARY.cql > LIBRARY.json
// Prints the translator's errors and exits 1 when the library does not compile.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  CqlCompilerOptions,
  CqlTranslator,
  LibraryManager,
  ModelManager,
  createModelInfoProvider,
  stringAsSource,
} from "@cqframework/cql/cql-to-elm";
import { SystemModelInfoProvider } from "@cqframework/cql/cql";

const require = createRequire(import.meta.url);
const modelInfos = join(dirname(require.resolve("cql-exec-fhir")), "modelInfos");

const [path] = process.argv.slice(2);
if (!path) {
  console.error("usage: node tools/cpg/translate.mjs LIBRARY.cql");
  process.exit(2);
}

const modelManager = new ModelManager();
modelManager.modelInfoLoader.registerModelInfoProvider(new SystemModelInfoProvider());
modelManager.modelInfoLoader.registerModelInfoProvider(
  createModelInfoProvider((id, system, version) =>
    id === "FHIR" && version === "4.0.1"
      ? stringAsSource(readFileSync(join(modelInfos, "fhir-modelinfo-4.0.1.xml"), "utf8"))
      : null,
  ),
);
// The translator's default options without annotations (the CQL text travels beside the ELM).
const { EnableLocators, DisableListDemotion, DisableListPromotion } = CqlCompilerOptions.Options;
const options = new CqlCompilerOptions().withOptions([
  EnableLocators,
  DisableListDemotion,
  DisableListPromotion,
]);
const libraryManager = new LibraryManager(modelManager, options);
const translator = CqlTranslator.fromText(readFileSync(path, "utf8"), libraryManager);
const errors = translator.errors.asJsArrayView();
if (errors.length > 0) {
  for (const error of errors) {
    const found = /startLine=(\d+), startChar=(\d+)/.exec(String(error.locator ?? ""));
    const where = found ? `${found[1]}:${found[2]}` : "?";
    console.error(`${path}:${where}: ${error.message}`);
  }
  process.exit(1);
}
// Indented, so that a change of the rule table shows as a readable diff of the committed ELM.
process.stdout.write(JSON.stringify(JSON.parse(translator.toJson()), null, 1) + "\n");
