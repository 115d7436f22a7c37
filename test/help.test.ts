/** Help and usage: `--help` fits its width, one spelling of defaults, typos and stray arguments are usage errors. */
import { describe, expect, test } from "bun:test";
import type { ArgsDef, CommandDef } from "citty";
import connectCommand, { connectArgs, connectExamples } from "../src/commands/connect.ts";
import serveCommand, { serveArgs, serveExamples } from "../src/commands/serve.ts";
import { portInUseHint } from "../src/errors.ts";
import { helpWidth, renderHelp } from "../src/help.ts";
import { closest, editDistance } from "../src/text/suggest.ts";
import { columns, example, wrapWords } from "../src/text/wrap.ts";
import { cliServer, runToEnd } from "./helpers.ts";

const ANSI = /\x1b\[[0-9;]*m/g;
const parent: CommandDef<ArgsDef> = { meta: { name: "chat", version: "1.2.3" } };

/** Lines over `width` columns or ending in whitespace, ANSI colour removed. */
function badLines(text: string, width: number): string[] {
  return text
    .replace(ANSI, "")
    .split("\n")
    .filter((line) => line.length > width || /\s$/.test(line));
}

function flagsOf(args: ArgsDef): string[] {
  return Object.entries(args)
    .filter(([, def]) => def.type !== "positional")
    .map(([name]) => `--${name}`);
}

describe("chat --help when piped", () => {
  const cases: [string[], string[]][] = [
    [["--help"], ["serve", "connect", "Exit codes"]],
    [
      ["serve", "--help"],
      [...flagsOf(serveArgs), "EXAMPLES", "chat serve --mode echo"],
    ],
    [
      ["connect", "--help"],
      [...flagsOf(connectArgs), "HOST", "PORT", "EXAMPLES", "chat connect chat.lan"],
    ],
  ];
  for (const [args, wanted] of cases) {
    for (const noColor of ["1", ""]) {
      test(`chat ${args.join(" ")} (NO_COLOR=${noColor}): 80 columns, no trailing spaces`, async () => {
        const r = await runToEnd(args, "", { env: { NO_COLOR: noColor } });
        expect(r.code).toBe(0);
        expect(r.stderr).toBe("");
        expect(badLines(r.stdout, 80)).toEqual([]);
        expect(r.stdout).not.toContain("\x1b[");
        expect(r.stdout).not.toContain("(Default:");
        if (args[0] !== "--help") expect(r.stdout).toContain("(default:");
        for (const text of wanted) expect(r.stdout).toContain(text);
      });
    }
  }

  test("every default is written (default: X)", async () => {
    const r = await runToEnd(["serve", "--help"]);
    for (const text of ["(default: 5000)", "(default: twoway)", "(default: server)", "(default: 1m)"]) expect(r.stdout).toContain(text);
  });
});

describe("renderHelp", () => {
  const serve = serveCommand as unknown as CommandDef<ArgsDef>;
  const connect = connectCommand as unknown as CommandDef<ArgsDef>;

  for (const width of [60, 72, 100]) {
    test(`wraps to a terminal's width: ${width}`, async () => {
      for (const [command, examples] of [
        [serve, serveExamples],
        [connect, connectExamples],
      ] as const) {
        const text = await renderHelp(command, parent, { width, color: true, examples });
        expect(text).toContain("\x1b[");
        expect(badLines(text, width)).toEqual([]);
        // Wider than 80 is used, not just allowed.
        if (width === 100) expect(badLines(text, 80).length).toBeGreaterThan(0);
      }
    });
  }

  test("wrapped descriptions hang under the description column", async () => {
    const text = await renderHelp(serve, parent, { width: 80, color: false });
    const lines = text.split("\n");
    const port = lines.find((line) => line.includes("--port=<port>")) ?? "";
    const column = port.indexOf("Port to listen on");
    const host = lines.findIndex((line) => line.includes("--host=<host>"));
    expect(column).toBeGreaterThan(10);
    expect(lines[host + 1]).toMatch(new RegExp(`^ {${column}}\\S`));
  });

  test("is generic: flags added later wrap too, and list their --no- form", async () => {
    const args = {
      ...connectArgs,
      "no-bell": { type: "boolean", description: "Never ring the terminal bell, not for private messages nor for your name" },
      reconnect: {
        type: "boolean",
        default: true,
        description: "Reconnect with backoff when the connection drops, keeping the draft and the name",
        negativeDescription: "Exit when the connection drops",
      },
      "some-very-long-option-name": { type: "string", description: "A value", default: "x" },
    } as const satisfies ArgsDef;
    const text = await renderHelp({ meta: { name: "connect" }, args }, parent, { width: 80, color: false });
    expect(badLines(text, 80)).toEqual([]);
    for (const flag of ["--no-bell", "--reconnect", "--no-reconnect", "--some-very-long-option-name=<some-very-long-option-name>"]) {
      expect(text).toContain(flag);
    }
    expect(text).toContain("(default: true)");
    expect(text).toContain("(default: x)");
  });

  test("helpWidth: 80 when piped, the terminal's width within 60-100", () => {
    expect(helpWidth({ isTTY: false, columns: 200 })).toBe(80);
    expect(helpWidth({})).toBe(80);
    expect(helpWidth({ isTTY: true, columns: 90 })).toBe(90);
    expect(helpWidth({ isTTY: true, columns: 40 })).toBe(60);
    expect(helpWidth({ isTTY: true, columns: 250 })).toBe(100);
  });
});

describe("wrapping", () => {
  test("wrapWords", () => {
    const cases: [string[], number, string[]][] = [
      [["a", "bb", "cc"], 5, ["a bb", "cc"]],
      [["abcdefgh"], 3, ["abc", "def", "gh"]],
      [[], 10, []],
      [["(default: 5000)"], 8, ["(default", ": 5000)"]],
    ];
    for (const [list, width, lines] of cases) expect(wrapWords(list, width)).toEqual(lines);
  });

  test("columns: a long left cell puts its text on the next line", () => {
    const rows = [
      { left: "-a", right: ["one", "two", "three"] },
      { left: "--a-very-long-one", right: ["four"] },
    ];
    expect(columns(rows, 14, { indent: 2, maxLeft: 5, gap: 2 })).toEqual([
      "  -a  one two",
      "      three",
      "  --a-very-long-one",
      "      four",
    ]);
  });

  test("example: the comment moves above, a long command continues with \\", () => {
    expect(example("chat serve   # a room", 30)).toEqual(["  chat serve   # a room"]);
    expect(example("printf 'a b c' | chat connect host   # post", 30)).toEqual([
      "  # post",
      "  printf 'a b c' | chat \\",
      "    connect host",
    ]);
  });
});

describe("did you mean", () => {
  const cases: [string, string, number][] = [
    ["serve", "serve", 0],
    ["server", "serve", 1],
    ["sevre", "serve", 1],
    ["conect", "connect", 1],
    ["", "abc", 3],
  ];
  for (const [a, b, distance] of cases) test(`editDistance(${a}, ${b}) = ${distance}`, () => expect(editDistance(a, b)).toBe(distance));

  const guesses: [string, string | undefined][] = [
    ["server", "serve"],
    ["Serve", "serve"],
    ["connnect", "connect"],
    ["frobnicate", undefined],
    ["con", undefined],
  ];
  for (const [word, guess] of guesses) test(`closest(${word}) = ${guess}`, () => expect(closest(word, ["serve", "connect"])).toBe(guess));
});

describe("usage errors", () => {
  test("chat server: did you mean serve? exit 2", async () => {
    const r = await runToEnd(["server"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown command server \(did you mean serve\?\)$/m);
    expect(r.stderr).toMatch(/^usage: chat/m);
    expect(r.stdout).toBe("");
  });

  test("an option before any command: says the command comes first, exit 2", async () => {
    const r = await runToEnd(["--port", "5000"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: a command comes first: chat serve --port … or chat connect --port …$/m);
    expect(r.stdout).toBe("");
  });

  test("chat help serve is chat serve --help", async () => {
    const [viaHelp, viaFlag] = await Promise.all([runToEnd(["help", "serve"]), runToEnd(["serve", "--help"])]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toContain("USAGE chat serve");
    const unknown = await runToEnd(["help", "frob"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown command frob$/m);
  });

  test("chat serve extra-arg: a usage error, exit 2, nothing started", async () => {
    const r = await runToEnd(["serve", "--port", "0", "extra-arg"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unexpected argument extra-arg/m);
    expect(r.stderr).not.toContain("listening");
  });
});

describe("port in use", () => {
  test("suggests --port 0 or another port, exit 1", async () => {
    const s = await cliServer(["--mode", "echo", "--host", "127.0.0.1"]);
    try {
      const r = await runToEnd(["serve", "--host", "127.0.0.1", "--port", String(s.port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: cannot listen on 127.0.0.1:${s.port}: address already in use (is another server running? try --port 0 or another port)\n`,
      );
    } finally {
      s.kill("SIGKILL");
      await s.exited;
    }
  });

  test("on macOS, 5000 and 7000 name the AirPlay Receiver", () => {
    expect(portInUseHint(5000, "linux")).not.toContain("AirPlay");
    expect(portInUseHint(5001, "darwin")).not.toContain("AirPlay");
    for (const port of [5000, 7000]) {
      expect(portInUseHint(port, "darwin")).toContain(`AirPlay Receiver uses port ${port}`);
      expect(portInUseHint(port, "darwin")).toContain("AirDrop & Handoff");
    }
  });
});
