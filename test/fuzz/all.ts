// Every fuzz property, for the campaign script and the regression test.
import type { FuzzProperty } from './properties.js';
import { TRACE_PROPERTIES } from './properties.js';
import { CLI_PROPERTIES } from './cli-properties.js';
import { ENGINE_PROPERTIES } from './engine-properties.js';
import { WINDBG_PROPERTIES } from '../windbg/fuzz-properties.js';

export const ALL_PROPERTIES: FuzzProperty<never>[] = [...TRACE_PROPERTIES, ...CLI_PROPERTIES, ...ENGINE_PROPERTIES, ...WINDBG_PROPERTIES];
