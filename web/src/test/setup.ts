import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { initCore } from '../lib/core';

// The real wasm build of the core (make wasm), loaded from bytes in Node:
// repositories call it (segment ids) as the app does after start-up.
await initCore(readFileSync(new URL('../wasm/pkg/echoloop_wasm_bg.wasm', import.meta.url)));
