// `npm run bench`: the benchmark suite (bench/suite.ts). Usage errors are one line, exit 2.
import { BenchUsageError, runBench } from './suite.js';
import { BenchError } from './case.js';

runBench(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    const known = e instanceof BenchUsageError || e instanceof BenchError;
    process.stderr.write(`bench: ${known ? '' : 'internal error: '}${message}\n`);
    process.exit(e instanceof BenchUsageError ? 2 : 1);
  },
);
