// Fails `npm run docs` on a link in README.md or docs/*.md that would not work for a reader:
// a link into this repository whose file does not exist, an in-page anchor no heading makes,
// or a relative link in README.md, which breaks on the npm page (docs/ and bench/ are not in
// the package). It also fails on an `npm run <script>` that package.json does not define: a
// newcomer copies those commands.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const root = join(dirname(new globalThis.URL(import.meta.url).pathname), "..");
const repository = "https://github.com/remastered-sessions/remastered-sessions/";
const files = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown) {
  const anchors = new Set();
  const seen = new Map();
  for (const line of markdown.replace(/```[\s\S]*?```/g, "").split("\n")) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
const problems = [];
for (const file of files) {
  const markdown = readFileSync(join(root, file), "utf8");
  for (const [, script] of markdown.matchAll(/npm run\s+([\w:-]+)/g)) {
    if (!(script in scripts)) problems.push(`${file}: \`npm run ${script}\` names no script of package.json`);
  }
  const anchors = anchorsOf(markdown);
  for (const [index, line] of markdown.split("\n").entries()) {
    for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const where = `${file}:${index + 1}`;
      const [path, anchor] = target.split("#");
      if (target.startsWith("#")) {
        if (!anchors.has(anchor)) problems.push(`${where}: no heading makes the anchor ${target}`);
      } else if (target.startsWith(repository)) {
        const inRepository = target.slice(repository.length).replace(/^(blob|tree)\/main\//, "").split("#")[0];
        if (!existsSync(join(root, inRepository))) problems.push(`${where}: ${inRepository} does not exist in this repository`);
        if (anchor && inRepository.endsWith(".md") && !anchorsOf(readFileSync(join(root, inRepository), "utf8")).has(anchor)) {
          problems.push(`${where}: no heading of ${inRepository} makes the anchor #${anchor}`);
        }
      } else if (!/^[a-z]+:/.test(target)) {
        if (file === "README.md") {
          problems.push(`${where}: relative link ${target} breaks on the npm page; use ${repository}blob/main/${path}`);
        } else if (!existsSync(normalize(join(root, dirname(file), path)))) {
          problems.push(`${where}: ${path} does not exist`);
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`${problems.length} broken link(s) or command(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`Links: every link and npm script in ${files.join(", ")} leads somewhere.`);
