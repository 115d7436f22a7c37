/** How chat is compiled: the flags every build uses, and the release targets of `bun run build:all`. */

// --bytecode needs --format=esm; a binary must not pick up a .env or bunfig.toml from the user's folder.
// --splitting: what a command loads when it runs (serve, connect, a cluster, the console) is a chunk of its own,
// so `chat serve` does not load the client's code at start (measured: 5 ms of a 27-ms start).
export const COMPILE_FLAGS = [
  "--compile",
  "--splitting",
  "--minify",
  "--sourcemap",
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];

/** A release target: the file name in dist/ and Bun's `--target`. */
export interface ReleaseTarget {
  /** Name in dist/, on the release page and in SHA256SUMS; scripts/install.sh picks it by `uname`. */
  file: string;
  target: Bun.Build.CompileTarget;
}

export const TARGETS = [
  { file: "chat-linux-x64", target: "bun-linux-x64" },
  { file: "chat-linux-arm64", target: "bun-linux-arm64" },
  { file: "chat-darwin-x64", target: "bun-darwin-x64" },
  { file: "chat-darwin-arm64", target: "bun-darwin-arm64" },
  { file: "chat-windows-x64.exe", target: "bun-windows-x64" },
] as const satisfies readonly ReleaseTarget[];
