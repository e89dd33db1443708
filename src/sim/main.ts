import { simCommand } from "./cli.ts";

// `npm run sim`: the simulator as a script.
process.exitCode = await simCommand(process.argv.slice(2));
