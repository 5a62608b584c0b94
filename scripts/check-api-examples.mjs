// Fails `npm run docs` when an exported symbol of the API reference has no `@example`:
// TypeDoc's own validation checks that everything is documented, not that it is shown in use.
// Reads the JSON that TypeDoc writes beside the HTML (see typedoc.json's "outputs").
import { readFileSync } from "node:fs";

const file = new globalThis.URL("../docs/api/api.json", import.meta.url);
let project;
try {
  project = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`Cannot read ${file.pathname} (${error.message}): run \`npx typedoc\` first, or use \`npm run docs\`.`);
  process.exit(1);
}

// With two entry points TypeDoc makes one module per entry point; with one, the project is the module.
const modules = project.children?.some((child) => child.children) ? project.children : [project];
const exports = modules.flatMap((module) => (module.children ?? []).map((symbol) => ({ module: module.name, symbol })));

// A function's comment sits on its signatures; a class's or a type's on the symbol itself.
const hasExample = (symbol) =>
  [symbol.comment, ...(symbol.signatures ?? []).map((signature) => signature.comment)].some((comment) =>
    comment?.blockTags?.some((tag) => tag.tag === "@example"),
  );

const missing = exports.filter(({ symbol }) => !hasExample(symbol));
if (exports.length === 0) {
  console.error("The API reference lists no exported symbol: check typedoc.json's entry points.");
  process.exit(1);
}
if (missing.length > 0) {
  console.error(`${missing.length} exported symbol(s) have no @example in their doc comment:`);
  for (const { module, symbol } of missing) {
    console.error(`  ${module}: ${symbol.name} (${symbol.sources?.[0]?.fileName ?? "unknown file"}:${symbol.sources?.[0]?.line ?? "?"})`);
  }
  process.exit(1);
}
console.log(`API reference: all ${exports.length} exported symbols have an @example.`);
