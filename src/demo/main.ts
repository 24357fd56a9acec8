import { runDemo } from './run-demo.js';

const summary = await runDemo();
process.exitCode = summary.results.length > 0 ? 0 : 1;
