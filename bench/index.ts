// `npm run bench`: every benchmark, one figure per line.
import { formatFigures, runTraceBench } from './traces.bench.js';

process.stdout.write(formatFigures(await runTraceBench()));
