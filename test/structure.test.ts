/**
 * The shape of src/: no import cycles (a module graph with a loop makes load
 * order matter, and the loop is what should be split), and no file over
 * MAX_LINES lines but the exceptions listed.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";

const MAX_LINES = 300;
/**
 * Files over MAX_LINES while the code is mid-refactor. This list must only
 * shrink: a file leaves it once it is split (the last test below says when),
 * and no file joins it.
 */
const OVER_300_ALLOWED: string[] = [];
/** Imports (`FILE -> IMPORTED`) allowed to close a loop: none. Like the list above, it may only shrink. */
const CYCLE_EDGES_ALLOWED: string[] = [];

const SRC = resolve(import.meta.dir, "../src");

/** Every .ts file under src/, relative to it, with its text. */
function sources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of new Glob("**/*.ts").scanSync(SRC)) files.set(file, readFileSync(join(SRC, file), "utf8"));
  return files;
}

const IMPORT_PATTERNS = [
  // import x from, import { a } from, import type { T } from, import * as m from, export { a } from, export * from
  /^[ \t]*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
  // import "./side-effect.ts";
  /^[ \t]*import\s*["']([^"']+)["']/gm,
  // await import("./lazy.ts")
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
];

/** The relative module specifiers a file's text imports or re-exports, in any of those forms. */
function relativeImports(text: string): string[] {
  const found = new Set<string>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const spec = match[1] ?? "";
      if (spec.startsWith("./") || spec.startsWith("../")) found.add(spec);
    }
  }
  return [...found];
}

/** `spec` imported by `from` (both relative to src/) as a file of src/, or null when it is outside or not a .ts file there. */
function resolveImport(from: string, spec: string, files: Map<string, string>): string | null {
  const target = relative(SRC, resolve(SRC, dirname(from), spec));
  for (const candidate of [target, `${target}.ts`, join(target, "index.ts")]) if (files.has(candidate)) return candidate;
  return null;
}

type Graph = Map<string, string[]>;

function importGraph(files: Map<string, string>): Graph {
  const graph: Graph = new Map();
  for (const [file, text] of files) {
    const targets = relativeImports(text).flatMap((spec) => resolveImport(file, spec, files) ?? []);
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

const edges = (graph: Graph): string[] => [...graph].flatMap(([file, targets]) => targets.map((target) => `${file} -> ${target}`));

function withoutEdges(graph: Graph, dropped: string[]): Graph {
  return new Map([...graph].map(([file, targets]) => [file, targets.filter((target) => !dropped.includes(`${file} -> ${target}`))]));
}

/** A cycle as the files along it, first file repeated at the end; null when the graph has none. */
function findCycle(graph: Graph): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): string[] | null => {
    if (onPath.has(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file)) return null;
    path.push(file);
    onPath.add(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
    return null;
  };
  for (const file of [...graph.keys()].sort()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

describe("finding imports and cycles", () => {
  const cases: { name: string; input: string; output: string[] }[] = [
    { name: "import", input: `import { a } from "./a.ts";`, output: ["./a.ts"] },
    { name: "import type", input: `import type { T } from "../t.ts";`, output: ["../t.ts"] },
    { name: "an import over lines", input: `import {\n  a,\n  type B,\n} from "./multi.ts";`, output: ["./multi.ts"] },
    { name: "import * as", input: `import * as m from './m.ts';`, output: ["./m.ts"] },
    { name: "import for effect", input: `import "./side.ts";`, output: ["./side.ts"] },
    {
      name: "export from",
      input: `export { a } from "./re.ts";\nexport * from "./all.ts";\nexport type { T } from "./types.ts";`,
      output: ["./re.ts", "./all.ts", "./types.ts"],
    },
    { name: "dynamic import", input: `const m = await import("./lazy.ts");`, output: ["./lazy.ts"] },
    { name: "packages are not relative", input: `import { x } from "node:fs";\nimport { y } from "citty";`, output: [] },
    {
      name: "comments and strings are not imports",
      input: `/**\n * import { no } from "./in-a-comment.ts";\n */\nconst s = "from './not-an-import.ts'";`,
      output: [],
    },
  ];
  test.each(cases)("$name", ({ input, output }) => {
    expect(relativeImports(input)).toEqual(output);
  });

  test("a cycle is found and named; a diamond is not a cycle", () => {
    const cyclic: Graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(findCycle(cyclic)).toEqual(["a.ts", "b.ts", "c.ts", "a.ts"]);
    const diamond: Graph = new Map([
      ["a.ts", ["b.ts", "c.ts"]],
      ["b.ts", ["d.ts"]],
      ["c.ts", ["d.ts"]],
      ["d.ts", []],
    ]);
    expect(findCycle(diamond)).toBeNull();
  });
});

describe("src/", () => {
  const files = sources();

  const graph = importGraph(files);

  test("has no import cycle but through the imports allowed", () => {
    expect(files.size).toBeGreaterThan(0);
    const cycle = findCycle(withoutEdges(graph, CYCLE_EDGES_ALLOWED));
    if (cycle) console.error(`import cycle in src/: ${cycle.join(" -> ")}`);
    expect(cycle?.join(" -> ") ?? "no cycle").toBe("no cycle");
  });

  test(`has no file over ${MAX_LINES} lines but those allowed`, () => {
    const over = [...files].filter(([file, text]) => lineCount(text) > MAX_LINES && !OVER_300_ALLOWED.includes(file));
    expect(over.map(([file, text]) => `src/${file}: ${lineCount(text)} lines`)).toEqual([]);
  });

  test("every exception is still needed (else take it off its list)", () => {
    const stale = OVER_300_ALLOWED.filter((file) => !existsSync(join(SRC, file)) || lineCount(files.get(file) ?? "") <= MAX_LINES);
    expect(stale).toEqual([]);
    const present = edges(graph);
    expect(CYCLE_EDGES_ALLOWED.filter((edge) => !present.includes(edge))).toEqual([]);
  });
});
