#!/usr/bin/env node
// The autoserve command's entry. Stop signals are handled before anything else loads (a SIGTERM
// while the modules load exits 0, not by the signal); then the program (./program.ts) runs.
import { installStopSignals } from './stop-signals.js';

installStopSignals();
const { runProgram } = await import('./program.js');
await runProgram(process.argv);
