/**
 * Distribution: the compiled binary stands alone, and scripts/install.sh installs it from a
 * release folder only when SHA256SUMS vouches for it. The "release" is a loopback HTTP server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { version } from "../package.json";
import { BINARY, ROOT, until } from "./helpers.ts";

const INSTALL_SH = `${ROOT}scripts/install.sh`;
const RUN_TIMEOUT_MS = 30_000;
/** What install.sh runs besides a downloader and a hasher (all found on this machine's PATH). */
const BASE_TOOLS = ["uname", "mktemp", "rm", "mkdir", "cp", "chmod", "mv", "awk"];

/** Passes the checksum but fails `--version`, like a glibc build on a musl system. */
const BROKEN = "#!/bin/sh\nexit 127\n";

/** The release file install.sh should pick here, named independently of install.sh's own logic. */
const RELEASE_FILE = `chat-${process.platform === "win32" ? "windows" : process.platform}-${process.arch}${process.platform === "win32" ? ".exe" : ""}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string[], env: Record<string, string>): Promise<Run> {
  const proc = Bun.spawn({ cmd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

function which(tool: string): string {
  const path = Bun.which(tool);
  if (!path) throw new Error(`${tool} is needed by this test and is not on PATH`);
  return path;
}

let work = "";
let server: ReturnType<typeof Bun.serve> | undefined;
let folders = 0;

/** A new empty folder under the test's temp dir. */
async function freshDir(prefix: string): Promise<string> {
  const dir = join(work, `${prefix}-${folders++}`);
  await mkdir(dir);
  return dir;
}

/** A folder of symlinks to exactly these tools: a PATH on which only they exist. */
async function toolDir(tools: string[]): Promise<string> {
  const dir = await freshDir("bin");
  for (const tool of tools) await symlink(which(tool), join(dir, tool));
  return dir;
}

/** Runs install.sh against release folder `release` on the server; reports what it left behind. */
async function install(
  release: string,
  tools: string[],
  options: { dir?: string; onPath?: boolean; uname?: { s: string; m: string } } = {},
) {
  const dir = options.dir ?? join(work, `install-${folders++}`);
  const temp = await freshDir("tmp");
  const fake = options.uname;
  const bin = await toolDir(fake ? tools.filter((tool) => tool !== "uname") : tools);
  if (fake) {
    await Bun.write(join(bin, "uname"), `#!/bin/sh\ncase "$1" in -s) echo '${fake.s}' ;; -m) echo '${fake.m}' ;; esac\n`);
    await chmod(join(bin, "uname"), 0o755);
  }
  const env = {
    PATH: options.onPath ? `${bin}:${dir}` : bin,
    HOME: work,
    TMPDIR: temp,
    CHAT_DOWNLOAD_URL: `http://127.0.0.1:${server?.port}/${release}/`,
    CHAT_INSTALL_DIR: dir,
  };
  const result = await run([which("sh"), INSTALL_SH], env);
  const installed = await readdir(dir).catch(() => []);
  const leftovers = await readdir(temp);
  return { ...result, dir, installed, leftovers };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "chat-dist-"));
  const good = await Bun.file(BINARY).bytes();
  const tampered = good.slice();
  const middle = Math.floor(tampered.length / 2);
  tampered[middle] = (tampered[middle] ?? 0) ^ 0xff;
  await Bun.write(join(work, "tampered"), tampered);

  // Lines for the other targets make the file look like a real release's SHA256SUMS.
  const others = ["chat-linux-arm64", "chat-darwin-x64", "chat-windows-x64.exe"]
    .filter((file) => file !== RELEASE_FILE)
    .map((file) => `${"0".repeat(64)}  ${file}\n`)
    .join("");
  const sums = `${sha256(good)}  ${RELEASE_FILE}\n${others}`;
  const routes: Record<string, () => Response> = {
    [`/good/${RELEASE_FILE}`]: () => new Response(Bun.file(BINARY)),
    "/good/SHA256SUMS": () => new Response(sums),
    [`/tampered/${RELEASE_FILE}`]: () => new Response(Bun.file(join(work, "tampered"))),
    "/tampered/SHA256SUMS": () => new Response(sums),
    [`/unlisted/${RELEASE_FILE}`]: () => new Response(Bun.file(BINARY)),
    "/unlisted/SHA256SUMS": () => new Response(others),
    "/empty/SHA256SUMS": () => new Response(""),
    [`/broken/${RELEASE_FILE}`]: () => new Response(BROKEN),
    "/broken/SHA256SUMS": () => new Response(`${sha256(new TextEncoder().encode(BROKEN))}  ${RELEASE_FILE}\n`),
  };
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => routes[new URL(req.url).pathname]?.() ?? new Response("not found", { status: 404 }),
  });
});

afterAll(async () => {
  await server?.stop(true);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("compiled binary", () => {
  test("prints the package.json version with an empty environment", async () => {
    const result = await run([BINARY, "--version"], {});
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  test.skipIf(process.platform !== "linux")(
    "reads the open-file limit through libc (bun:ffi): --max-clients clamped under ulimit -n 256",
    async () => {
      const cmd = ["sh", "-c", 'ulimit -n 256 && exec "$0" serve --mode echo --port 0 --host 127.0.0.1', BINARY];
      await using proc = Bun.spawn({ cmd, env: {}, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      let stderr = "";
      const reading = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
      })();
      await until(() => stderr.includes("listening on"), "the listening line", RUN_TIMEOUT_MS);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      await reading;
      expect(stderr).toMatch(/^warning: --max-clients 10000 lowered to \d+: the open-file limit \(ulimit -n\) is 256, \d+ in use at start/);
    },
  );
});

describe("install.sh", () => {
  test("passes sh -n", async () => {
    expect((await run([which("sh"), "-n", INSTALL_SH], {})).code).toBe(0);
  });

  const fetchers = ["curl", "wget"].filter((tool) => Bun.which(tool));
  const setups = [
    ...fetchers.map((fetcher) => ({ label: `${fetcher} + sha256sum`, tools: [...BASE_TOOLS, fetcher, "sha256sum"] })),
    ...(Bun.which("shasum") && fetchers[0] ? [{ label: `${fetchers[0]} + shasum`, tools: [...BASE_TOOLS, fetchers[0], "shasum"] }] : []),
  ];

  for (const { label, tools } of setups) {
    describe(label, () => {
      test("installs a working binary as chat and says the folder is not on PATH", async () => {
        const result = await install("good", tools);
        expect(result.code).toBe(0);
        expect(result.installed).toEqual(["chat"]);
        expect(result.leftovers).toEqual([]);
        expect((await stat(join(result.dir, "chat"))).mode & 0o777).toBe(0o755);
        expect(result.stdout).toContain(`installed chat ${version} (${RELEASE_FILE}) as ${join(result.dir, "chat")}\n`);
        expect(result.stdout).toContain(`${result.dir} is not on your PATH`);
        const check = await run([join(result.dir, "chat"), "--version"], {});
        expect(check).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
      });

      test("refuses a binary with one byte changed", async () => {
        const result = await install("tampered", tools);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain("checksum mismatch");
        expect(result.installed).toEqual([]);
        expect(result.leftovers).toEqual([]);
      });

      test("refuses when SHA256SUMS has no entry for the binary", async () => {
        const result = await install("unlisted", tools);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(`SHA256SUMS at http://127.0.0.1:${server?.port}/unlisted has no checksum for ${RELEASE_FILE}`);
        expect(result.installed).toEqual([]);
        expect(result.leftovers).toEqual([]);
      });
    });
  }

  test("replaces an existing chat and stays quiet about PATH when the folder is on it", async () => {
    const dir = await freshDir("install");
    await Bun.write(join(dir, "chat"), "old");
    const result = await install("good", setups[0]?.tools ?? [], { dir, onPath: true });
    expect(result.code).toBe(0);
    expect(result.installed).toEqual(["chat"]);
    expect(result.stdout).not.toContain("not on your PATH");
    expect((await run([join(dir, "chat"), "--version"], {})).stdout).toBe(`${version}\n`);
  });

  test("refuses a verified binary that does not run here", async () => {
    const dir = await freshDir("install");
    await Bun.write(join(dir, "chat"), "old");
    const result = await install("broken", setups[0]?.tools ?? [], { dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${RELEASE_FILE} does not run on this machine`);
    expect(result.installed).toEqual(["chat"]);
    expect(await Bun.file(join(dir, "chat")).text()).toBe("old");
  });

  test("a refused download leaves an existing chat untouched", async () => {
    const dir = await freshDir("install");
    await Bun.write(join(dir, "chat"), "old");
    const result = await install("tampered", setups[0]?.tools ?? [], { dir });
    expect(result.code).not.toBe(0);
    expect(result.installed).toEqual(["chat"]);
    expect(await Bun.file(join(dir, "chat")).text()).toBe("old");
  });

  // An empty SHA256SUMS makes install.sh name the file it picked, and stop before downloading it.
  const platforms = [
    { s: "Linux", m: "x86_64", file: "chat-linux-x64" },
    { s: "Linux", m: "amd64", file: "chat-linux-x64" },
    { s: "Linux", m: "aarch64", file: "chat-linux-arm64" },
    { s: "Darwin", m: "x86_64", file: "chat-darwin-x64" },
    { s: "Darwin", m: "arm64", file: "chat-darwin-arm64" },
    { s: "MINGW64_NT-10.0-19045", m: "x86_64", file: "chat-windows-x64.exe" },
    { s: "MSYS_NT-10.0-19045", m: "x86_64", file: "chat-windows-x64.exe" },
    { s: "CYGWIN_NT-10.0-19045", m: "x86_64", file: "chat-windows-x64.exe" },
    { s: "FreeBSD", m: "amd64", error: "unsupported operating system: FreeBSD" },
    { s: "Linux", m: "riscv64", error: "unsupported CPU architecture: riscv64" },
  ];
  test.each(platforms)("uname $s $m", async ({ s, m, file, error }) => {
    const result = await install("empty", setups[0]?.tools ?? [], { uname: { s, m } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(file ? `has no checksum for ${file};` : `${error} `);
  });

  test("says what is missing when there is neither curl nor wget", async () => {
    const result = await install("good", [...BASE_TOOLS, "sha256sum"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("need curl or wget");
    expect(result.installed).toEqual([]);
  });

  test("refuses to install unverified when there is neither sha256sum nor shasum", async () => {
    const result = await install("good", [...BASE_TOOLS, ...fetchers.slice(0, 1)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("need sha256sum or shasum");
    expect(result.installed).toEqual([]);
  });
});
