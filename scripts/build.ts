/** `bun run build`: compiles src/cli.ts into one standalone executable, dist/chat. */
import { $ } from "bun";

await $`bun build src/cli.ts --compile --minify --sourcemap --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --outfile dist/chat`;
