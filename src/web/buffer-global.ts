// The trace readers use Node's Buffer. In a browser (or any runtime without one) this installs the
// `buffer` package's implementation as the global Buffer. Entry files that may read traces in a
// browser import this module first, so it runs before any reader module is evaluated.
import { Buffer as BufferPolyfill } from 'buffer/index.js';

const scope = globalThis as { Buffer?: unknown };
if (scope.Buffer === undefined) scope.Buffer = BufferPolyfill;
