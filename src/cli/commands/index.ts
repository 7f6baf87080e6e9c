// Every subcommand, one line each. Keep this list sorted by name.
import type { Command } from '../io.js';

export const COMMANDS: Record<string, () => Promise<Command>> = {
  advise: async () => (await import('./advise.js')).command,
  analyze: async () => (await import('./analyze.js')).command,
  convert: async () => (await import('./convert.js')).command,
  demo: async () => (await import('./demo.js')).command,
  merge: async () => (await import('./merge.js')).command,
  policies: async () => (await import('./policies.js')).command,
  record: async () => (await import('./record.js')).command,
  run: async () => (await import('./run.js')).command,
  stats: async () => (await import('./stats.js')).command,
  sweep: async () => (await import('./sweep.js')).command,
};
