#!/usr/bin/env node
/**
 * The `taskguard` executable: runs the program with the real process and exits with its code.
 * @module
 */
import { runCli } from './program.js';

// A reader that goes away (`taskguard cancel-all … | head -1`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
