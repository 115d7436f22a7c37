/**
 * `bun run build`: compiles src/cli.ts into one standalone executable for this machine, dist/chat.
 * `bun run build:all`: one executable per release target (scripts/targets.ts) plus dist/SHA256SUMS.
 * Cross targets download their Bun runtime from the npm registry on first use (then cached).
 */
import { $ } from "bun";
import { COMPILE_FLAGS, TARGETS } from "./targets.ts";

process.chdir(new URL("..", import.meta.url).pathname);
const ENTRY = "src/cli.ts";
const DIST = "dist";

async function compile(outfile: string, target?: Bun.Build.CompileTarget): Promise<void> {
  const targetFlag = target ? [`--target=${target}`] : [];
  await $`${process.execPath} build ${ENTRY} ${COMPILE_FLAGS} ${targetFlag} --outfile ${outfile}`;
}

async function sha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(await Bun.file(path).arrayBuffer());
  return hasher.digest("hex");
}

if (process.argv.includes("--all")) {
  const sums: string[] = [];
  for (const { file, target } of TARGETS) {
    await compile(`${DIST}/${file}`, target);
    sums.push(`${await sha256(`${DIST}/${file}`)}  ${file}\n`);
  }
  await Bun.write(`${DIST}/SHA256SUMS`, sums.join(""));
  console.log(`wrote ${TARGETS.length} binaries and ${DIST}/SHA256SUMS`);
} else {
  await compile(`${DIST}/chat`);
}
